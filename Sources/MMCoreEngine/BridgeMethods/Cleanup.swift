/// `cleanup()`: forgets the installation, the user, the token and pending work, and stops
/// the session until the next `init`.
public struct Cleanup: BridgeMethod {
    public static let name = "cleanup"
    public static let parameterNames: [String] = []

    public init(arguments: BridgeArguments) {}

    public func admit(on session: isolated Session) -> Admitted {
        do {
            try session.cleanUp()
            return .value(.null)
        } catch {
            return .failed(error)
        }
    }
}
