/// `getInstallation()`: the local installation with every change admitted so far applied.
public struct GetInstallation: BridgeMethod {
    public static let name = "getInstallation"
    public static let parameterNames: [String] = []

    public init(arguments: BridgeArguments) {}

    public func admit(on session: isolated Session) -> Admitted {
        do {
            return .value(try session.localInstallation())
        } catch {
            return .failed(error)
        }
    }
}
