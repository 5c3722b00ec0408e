import Synchronization
/// Which base URL the Mobile API is reached at: the configured `backendBaseURL`, or the
/// one the service moved this application to (`docs/contract/mobile-api.md`, "Dynamic base URL"; iOS
/// `DynamicBaseUrlHTTPSessionManager.swift` and `BaseUrlManager.swift`, Android
/// `MobileApiResourceProvider.java`).
///
/// A pure value: ``BaseURLSource`` shares it between requests, the session persists it.
struct BaseURLRoute: Sendable, Equatable {
    /// How often, with the production base URL, `GET /mobile/1/baseurl` is asked.
    static let checkInterval: Double = 24 * 60 * 60

    let configured: String
    /// Where the service moved this application; `nil` while it has not.
    private(set) var dynamic: String?
    /// When `GET /mobile/1/baseurl` last answered (seconds since the epoch).
    private(set) var lastCheck: Double?

    init(configured: String, dynamic: String? = nil, lastCheck: Double? = nil) {
        self.configured = configured
        self.dynamic = dynamic == configured ? nil : dynamic
        self.lastCheck = lastCheck
    }

    /// The base URL of the next request.
    var current: String { dynamic ?? configured }

    /// Follows a `New-Base-URL` header or a `/baseurl` answer. A value that fails the
    /// `backendBaseURL` rules (https except loopback, no credentials, parses) is ignored:
    /// the service can move an app, a middlebox must not send it to plain HTTP. Returns
    /// whether the route changed.
    mutating func follow(_ value: String) -> Bool {
        let trimmed = value.trimmingASCIISpaces()
        guard !trimmed.isEmpty, let url = try? BackendBaseURL.checked(trimmed, field: "New-Base-URL") else { return false }
        let next: String? = url == configured ? nil : url
        guard next != dynamic else { return false }
        dynamic = next
        return true
    }

    /// The dynamic host could not be found: back to the configured URL. Returns whether
    /// the route changed.
    mutating func fallBack() -> Bool {
        guard dynamic != nil else { return false }
        dynamic = nil
        return true
    }

    /// Whether to ask `GET /mobile/1/baseurl` now: only with the production base URL, as
    /// both SDKs do, and at most once a day.
    func needsCheck(now: Double) -> Bool {
        guard configured == Configuration.defaultBackendBaseURL else { return false }
        guard let lastCheck else { return true }
        return now - lastCheck >= Self.checkInterval || now < lastCheck
    }

    mutating func checked(at now: Double) { lastCheck = now }
}

extension String {
    fileprivate func trimmingASCIISpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars = scalars.dropFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars = scalars.dropLast() }
        return String(scalars)
    }
}

/// The route shared by every request of one session: read for each request, moved by a
/// response's `New-Base-URL` header or a host-not-found, from whatever task sends.
final class BaseURLSource: Sendable {
    private let route: Mutex<BaseURLRoute>

    init(_ route: BaseURLRoute) {
        self.route = Mutex(route)
    }

    var snapshot: BaseURLRoute { route.withLock { $0 } }
    var current: String { route.withLock { $0.current } }

    @discardableResult
    func follow(_ value: String) -> Bool { route.withLock { $0.follow(value) } }

    /// Falls back when `url` (the base URL a request went to) is the dynamic one.
    @discardableResult
    func fallBack(from url: String) -> Bool {
        route.withLock { route in route.current == url ? route.fallBack() : false }
    }

    func checked(at now: Double) { route.withLock { $0.checked(at: now) } }
}
