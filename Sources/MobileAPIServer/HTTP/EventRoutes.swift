import Hummingbird
import JSON

/// Custom events: `POST /mobile/1/appinstance/{pushRegId}/user/events/custom?validate=`.
/// `App <code>` only, under every user-data setting: events are not user data.
struct EventRoutes: Sendable {
    let store: ServerStore
    let callers: MobileCallers

    func register(on router: Router<ServerRequestContext>) {
        router.post("mobile/1/appinstance/:pushRegId/user/events/custom") { request, context in
            try await submit(request, context)
        }
    }

    /// The answer is `{}` in both modes: with `validate=false` the SDKs expect business
    /// errors to be silenced, and the admin API shows what was kept aside.
    func submit(_ request: Request, _ context: ServerRequestContext) async throws -> JSONResponse {
        let (_, installation) = try await callers.appCaller(request, context)
        let validate = try MobileRoutes.flag(request.uri.queryParameters.get("validate"), name: "validate")
        let events = try SubmittedEvent.batch(try await request.jsonObjectBody(limit: Limits.bodyBytes))
        try await store.events.submit(events, pushRegId: installation.pushRegId, validate: validate)
        return JSONResponse(.object(JSONObject()))
    }
}
