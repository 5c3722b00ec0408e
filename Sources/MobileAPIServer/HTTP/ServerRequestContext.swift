import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's core storage plus the connection,
/// which fault injection closes to simulate a dropped connection, and the application the
/// request is for once a handler knows it (for `New-Base-URL`).
public struct ServerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel
    let application = ResolvedApplication()

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}
