import Foundation
import Hummingbird
import JSON

/// The Mobile API requests the server has seen, newest last, so a client's test can
/// prove that a call sent nothing. Holds method, path, auth scheme, status and
/// duration: never a header value, a body or a token.
public actor RequestLog {
    public struct Entry: Sendable {
        public var seq: Int
        public var method: String
        public var path: String
        /// `App`, `Bearer` or `none`.
        public var auth: String
        /// The status sent, or 0 when the connection was dropped without a response.
        public var status: Int
        public var durationMs: Int

        var json: JSONValue {
            [
                "seq": .number(JSONNumber(seq)), "method": .string(method), "path": .string(path),
                "auth": .string(auth), "status": .number(JSONNumber(status)),
                "durationMs": .number(JSONNumber(durationMs)),
            ]
        }
    }

    let capacity: Int
    private var entries: [Entry] = []
    private var lastSeq = 0

    public init(capacity: Int = 10_000) {
        self.capacity = max(1, capacity)
    }

    func append(method: String, path: String, auth: String, status: Int, durationMs: Int) {
        lastSeq += 1
        entries.append(Entry(seq: lastSeq, method: method, path: path, auth: auth, status: status, durationMs: durationMs))
        // Trim in chunks so that appending stays O(1) amortized.
        if entries.count > capacity + capacity / 10 {
            entries.removeFirst(entries.count - capacity)
        }
    }

    /// Entries with a sequence number greater than `since`, at most `capacity` of them.
    public func entries(since: Int = 0) -> [Entry] {
        entries.suffix(capacity).filter { $0.seq > since }
    }

    /// Forgets the entries; sequence numbers keep growing, so `since` stays meaningful.
    public func clear() {
        entries.removeAll()
    }
}

/// Records every Mobile API request (paths under `/mobile/`) with what the client got.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    let log: RequestLog

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/mobile/") else { return try await next(request, context) }
        let start = ContinuousClock.now
        let method = request.method.rawValue
        let auth = Credentials.scheme(of: request)
        func milliseconds() -> Int {
            let elapsed = ContinuousClock.now - start
            return Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        }
        do {
            let response = try await next(request, context)
            await log.append(method: method, path: path, auth: auth, status: response.status.code, durationMs: milliseconds())
            return response
        } catch {
            // Only a dropped connection gets here: ErrorMiddleware turns every other
            // error into a response.
            await log.append(method: method, path: path, auth: auth, status: 0, durationMs: milliseconds())
            throw error
        }
    }
}

/// Turns every error into the `requestError` JSON shape, so no route (or unknown path)
/// answers with an empty body or HTML.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ServiceError {
            return try error.response(from: request, context: context)
        } catch let error as StoreError {
            if case .inconsistent(let detail) = error {
                context.logger.error("Inconsistent data", metadata: ["detail": "\(detail)", "path": "\(request.uri.path)"])
            }
            return try ServiceError(error).response(from: request, context: context)
        } catch let error as HTTPError {
            let serviceError: ServiceError =
                switch error.status {
                case .notFound: .notFound(request.method.rawValue, request.uri.path)
                case .contentTooLarge: .requestTooLarge(limit: Limits.bodyBytes)
                default: ServiceError(error.status, "HTTP_\(error.status.code)", error.body ?? error.status.reasonPhrase)
                }
            return try serviceError.response(from: request, context: context)
        } catch {
            context.logger.error("Unexpected error", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return try ServiceError.internalError.response(from: request, context: context)
        }
    }
}
