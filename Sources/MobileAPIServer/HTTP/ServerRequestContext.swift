import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's core storage plus the connection,
/// which fault injection closes to simulate a dropped connection.
public struct ServerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}
