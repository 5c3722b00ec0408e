import JSONRPC
import Logging
import MMCoreBridge
import MMCoreEngine

/// What every host of the core serves, stated once: `mmcore` on stdio and the embedded
/// library in process wire a ``Connection`` to a ``Session`` the same way.
public enum CoreService {
    /// A session on `stateDirectory` whose events and token requests go through
    /// `connection`.
    public static func session(stateDirectory: String, connection: Connection, logger: Logger) -> Session {
        Session(
            stateDirectory: stateDirectory,
            events: NotificationEventSink(connection: connection),
            logger: logger,
            // The session bounds the wait (userDataJwtProviderTimeoutSeconds, at most 60 s).
            tokenProvider: WrapperTokenProvider(connection: connection, timeout: .seconds(61)))
    }

    /// Every method of the bridge contract on `session`, and `rpc.discover` answering the
    /// schema embedded at build time.
    public static func registry(session: Session) -> MethodRegistry {
        var registry = MethodRegistry(methodNotFoundHint: "rpc.discover lists the methods")
        BridgeMethods.register(into: &registry, session: session)
        registry.register(admitting: "rpc.discover") { _ in .answered(try OpenRPCDocument.parsed.get()) }
        return registry
    }
}
