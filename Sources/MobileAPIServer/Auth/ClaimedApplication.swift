import JSON

extension AccessTokenVerifier {
    /// The `infobip-api-key` claim of a token, read without verifying anything: for the
    /// routes whose path names no installation, to pick the application whose keys then
    /// verify the token (``verify(_:application:activeKey:)`` checks the claim again).
    static func claimedApplicationCode(_ token: String) -> String? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let bytes = UserDataToken.decodeBase64URL(parts[1]),
            let claims = try? JSONParser.parse(bytes).objectValue
        else { return nil }
        return claims["infobip-api-key"]?.stringValue
    }
}
