import Hummingbird
import JSON

/// The admin API for custom events: definitions per application, and the events received.
struct AdminEventRoutes: Sendable {
    let store: ServerStore

    func register(on admin: RouterGroup<ServerRequestContext>) {
        admin.post("applications/:code/event-definitions") { request, context in
            let input = try EventDefinitionInput(try await request.jsonObjectBody(limit: Limits.bodyBytes))
            let record = try await store.events.createDefinition(applicationCode: AdminRoutes.parameter(context, "code"), input)
            return JSONResponse(status: .created, record.json)
        }
        admin.get("applications/:code/event-definitions") { _, context in
            let records = try await store.events.definitions(applicationCode: AdminRoutes.parameter(context, "code"))
            return JSONResponse(.array(records.map(\.json)))
        }
        admin.delete("applications/:code/event-definitions/:definitionId") { _, context in
            try await store.events.deleteDefinition(
                applicationCode: AdminRoutes.parameter(context, "code"),
                definitionId: AdminRoutes.parameter(context, "definitionId"))
            return JSONResponse(.object(JSONObject()))
        }
        admin.get("applications/:code/events") { request, context in
            let query = request.uri.queryParameters
            var personId: Int64?
            if let text = query.get("personId") {
                guard let id = Int64(text) else { throw ServiceError.requestFormatInvalid("personId must be an integer") }
                personId = id
            }
            var valid: Bool?
            if let text = query.get("valid"), !text.isEmpty { valid = try MobileRoutes.flag(text, name: "valid") }
            return JSONResponse(
                try await store.events.events(
                    applicationCode: AdminRoutes.parameter(context, "code"), personId: personId, valid: valid))
        }
        admin.get("applications/:code/people/:externalUserId/events") { _, context in
            JSONResponse(
                try await store.events.events(
                    applicationCode: AdminRoutes.parameter(context, "code"),
                    externalUserId: AdminRoutes.parameter(context, "externalUserId")))
        }
    }
}
