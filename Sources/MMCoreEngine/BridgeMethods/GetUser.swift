/// `getUser()`: the local user with every change admitted so far applied; no network.
public struct GetUser: BridgeMethod {
    public static let name = "getUser"
    public static let parameterNames: [String] = []

    public init(arguments: BridgeArguments) {}

    public func admit(on session: isolated Session) -> Admitted {
        do {
            return .value(try session.localUser())
        } catch {
            return .failed(error)
        }
    }
}
