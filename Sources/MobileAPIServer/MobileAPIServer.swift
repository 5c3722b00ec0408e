import Foundation
import Hummingbird
import Logging
import NIOCore

/// The local Mobile API: everything `mmserver serve` runs, as a library so tests can run
/// it in-process (`app.test(.router)`) or on a live port.
public struct MobileAPIServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        /// 0 lets the operating system pick a free port.
        public var port: Int
        public var database: DatabaseLocation
        public var adminToken: String
        /// The clock tokens are checked against (tests move it).
        public var now: @Sendable () -> Date
        public var requestLogCapacity: Int
        public var logger: Logger

        public init(
            host: String = "127.0.0.1", port: Int = 0, database: DatabaseLocation = .inMemory,
            adminToken: String = MobileAPIServer.randomAdminToken(), now: @escaping @Sendable () -> Date = { Date() },
            requestLogCapacity: Int = 10_000, logger: Logger = Logger(label: "mmserver")
        ) {
            self.host = host
            self.port = port
            self.database = database
            self.adminToken = adminToken
            self.now = now
            self.requestLogCapacity = requestLogCapacity
            self.logger = logger
        }
    }

    public let configuration: Configuration
    public let store: ServerStore
    public let requestLog: RequestLog
    public let faults: FaultInjector
    /// The host and (once bound) port: what the page and the admin API answer to.
    public let address: ListeningAddress

    /// Opens and migrates the database; nothing listens yet.
    public init(configuration: Configuration) throws {
        self.configuration = configuration
        self.store = try ServerStore(configuration.database, now: configuration.now)
        self.requestLog = RequestLog(capacity: configuration.requestLogCapacity)
        self.faults = FaultInjector()
        self.address = ListeningAddress(host: configuration.host, port: configuration.port)
    }

    public static func randomAdminToken() -> String { Identifiers.randomHex(bytes: 24) }

    /// All routes. Middleware order, outermost first: `nosniff` on everything; the request
    /// log sees what the client saw; `New-Base-URL` goes on refusals too; faults come
    /// before any work; every error leaves as the `requestError` JSON shape, including
    /// the header size and Host refusals that follow.
    public func makeRouter() -> Router<ServerRequestContext> {
        let router = Router(context: ServerRequestContext.self)
        router.add(middleware: NoSniffMiddleware())
        router.add(middleware: RequestLogMiddleware(log: requestLog))
        router.add(middleware: BaseURLMiddleware())
        router.add(middleware: FaultInjectionMiddleware(injector: faults))
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: HeaderSizeMiddleware())
        router.add(middleware: HostCheckMiddleware(address: address))
        let callers = MobileCallers(store: store, verifier: AccessTokenVerifier(now: configuration.now))
        MobileRoutes(store: store, callers: callers, address: address).register(on: router)
        EventRoutes(store: store, callers: callers).register(on: router)
        InboxRoutes(store: store, callers: callers).register(on: router)
        AdminRoutes(
            store: store, requestLog: requestLog, faults: faults, adminToken: configuration.adminToken,
            now: configuration.now
        ).register(on: router)
        ConfigurationPage.register(on: router)
        router.get("health") { _, _ in JSONResponse(["status": "ok"]) }
        return router
    }

    /// The Hummingbird application; `onRunning` receives the port actually bound.
    public func makeApplication(
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let address = self.address
        // The parser's own header limits are raised above ``Limits/headerBytes`` so that a
        // large header gets the error shape from ``HeaderSizeMiddleware``: a parser error
        // is answered by hummingbird itself, with an empty 400, before any middleware runs.
        return Application(
            router: makeRouter(),
            server: .http1(
                configuration: .init(
                    httpDecoderConfiguration: .init(
                        maxHeaderFieldSize: Limits.parsedHeaderBytes, maxHeaderListSize: Limits.parsedHeaderBytes))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                await address.bound(port: port)
                await onRunning(port)
            },
            logger: configuration.logger
        )
    }
}

extension MobileAPIServer {
    /// swift-log to stderr at `level` (`trace` ... `critical`), for the executable.
    /// Returns `false` for an unknown level name.
    @discardableResult
    public static func bootstrapLogging(level: String) -> Bool {
        guard let parsed = Logger.Level(rawValue: level.lowercased()) else { return false }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = parsed
            return handler
        }
        return true
    }
}
