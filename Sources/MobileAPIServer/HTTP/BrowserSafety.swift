import Foundation
import HTTPTypes
import Hummingbird

/// The address the server listens on: the configured host, and the port once bound
/// (`--port 0` lets the system choose it).
public actor ListeningAddress {
    public let host: String
    public private(set) var port: Int?

    public init(host: String, port: Int) {
        self.host = host
        self.port = port == 0 ? nil : port
    }

    func bound(port: Int) {
        self.port = port
    }

    /// The names a browser uses to reach this server: the loopback ones, and the
    /// configured host unless it is a wildcard (whose other names we cannot know).
    var names: Set<String> {
        var names: Set<String> = ["localhost", "127.0.0.1", "::1"]
        let configured = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if !["", "0.0.0.0", "::"].contains(configured) { names.insert(configured) }
        return names
    }

    /// Whether `authority` (a `Host` header) names this server. The port must be the
    /// bound one when given; without one a browser would have connected to port 80,
    /// which is not ours unless we are bound there, so only a non-browser client can send
    /// that, and the name check still applies.
    func allows(_ authority: String) -> Bool {
        guard let (name, authorityPort) = Self.split(authority) else { return false }
        guard names.contains(name.lowercased()) else { return false }
        if let authorityPort, let port, authorityPort != port { return false }
        return true
    }

    /// `name[:port]` or `[v6]:port` into its parts; `nil` when malformed.
    static func split(_ authority: String) -> (String, Int?)? {
        var name = Substring(authority)
        var portText: Substring?
        if name.hasPrefix("[") {
            guard let close = name.firstIndex(of: "]") else { return nil }
            let rest = name[name.index(after: close)...]
            name = name[name.index(after: name.startIndex)..<close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return nil }
                portText = rest.dropFirst()
            }
        } else if let colon = name.firstIndex(of: ":") {
            portText = name[name.index(after: colon)...]
            name = name[..<colon]
        }
        guard !name.isEmpty else { return nil }
        guard let portText else { return (String(name), nil) }
        guard (1...5).contains(portText.count), portText.allSatisfy(\.isASCII), let port = Int(portText) else { return nil }
        return (String(name), port)
    }
}

/// `X-Content-Type-Options: nosniff` on every response, so that no browser reads a JSON
/// error (which may quote what a client sent) as HTML or script.
struct NoSniffMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        return response
    }
}

/// The configuration page and the admin API answer only to a `Host` naming this server:
/// a page on another name that its DNS points at 127.0.0.1 (DNS rebinding) is same-origin
/// with whatever it loads, so without this check it could drive the admin API of a server
/// on the developer's machine. The Mobile API is left alone: devices on a network reach
/// the server under names it cannot know.
struct HostCheckMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    let address: ListeningAddress

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        guard Self.isBrowserFacing(path) else { return try await next(request, context) }
        // The first Host header is the authority; hummingbird leaves any other in the fields.
        let hosts = [request.head.authority].compactMap { $0 } + request.headers[values: .host]
        guard hosts.count == 1, await address.allows(hosts[0]) else { throw ServiceError.hostNotAllowed }
        return try await next(request, context)
    }

    static func isBrowserFacing(_ path: String) -> Bool {
        path == "/config" || path.hasPrefix("/config/") || path == "/admin" || path.hasPrefix("/admin/")
    }
}

/// Refuses a request whose header fields together exceed ``Limits/headerBytes``, with
/// the error shape. The HTTP parser is configured to accept more (``Limits/parsedHeaderBytes``)
/// so that a large header reaches this check instead of the parser's empty 400.
struct HeaderSizeMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var size = request.head.authority?.utf8.count ?? 0
        for field in request.headers { size += field.name.rawName.utf8.count + field.value.utf8.count }
        guard size <= Limits.headerBytes else { throw ServiceError.requestHeadersTooLarge(limit: Limits.headerBytes) }
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    static let host = HTTPField.Name("Host")!  // a valid token: cannot fail
}
