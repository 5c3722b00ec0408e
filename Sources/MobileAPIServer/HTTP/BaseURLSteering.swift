import HTTPTypes
import Hummingbird

/// The application a Mobile API request turned out to be for, recorded by the handler
/// once it knows (from `App <code>` or the installation in the path), so that the
/// response, refusals included, can carry the application's `New-Base-URL`.
///
/// One per request, shared by reference between the middleware and the handler: the
/// request context itself is a value, copied on the way down.
actor ResolvedApplication {
    private(set) var baseUrl: String?

    func resolved(_ application: ApplicationRecord) {
        baseUrl = application.baseUrl
    }
}

/// Adds `New-Base-URL: <url>` to every Mobile API response of an application that has a
/// dynamic base URL (docs/mmserver.md): the native SDKs switch to it and persist it. This
/// is how the service moves an application to another data centre; here it lets a test
/// move a client between two local servers.
struct BaseURLMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        if request.uri.path.hasPrefix("/mobile/"), let baseUrl = await context.application.baseUrl {
            response.headers[.newBaseURL] = baseUrl
        }
        return response
    }
}

extension HTTPField.Name {
    static let newBaseURL = HTTPField.Name("New-Base-URL")!  // a valid token: cannot fail
}
