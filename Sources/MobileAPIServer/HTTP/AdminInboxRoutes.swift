import Hummingbird
import JSON

/// The admin API for inboxes: put a message into an external user id's inbox, list it.
struct AdminInboxRoutes: Sendable {
    let store: ServerStore

    func register(on admin: RouterGroup<ServerRequestContext>) {
        admin.post("applications/:code/inbox/:externalUserId") { request, context in
            let input = try InboxMessageInput(try await request.jsonObjectBody(limit: Limits.bodyBytes))
            let record = try await store.inbox.put(
                applicationCode: AdminRoutes.parameter(context, "code"),
                externalUserId: AdminRoutes.parameter(context, "externalUserId"), input)
            return JSONResponse(status: .created, record.adminJSON)
        }
        admin.get("applications/:code/inbox/:externalUserId") { _, context in
            let page = try await store.inbox.all(
                applicationCode: AdminRoutes.parameter(context, "code"),
                externalUserId: AdminRoutes.parameter(context, "externalUserId"))
            return JSONResponse(
                [
                    "countTotal": .number(JSONNumber(page.countTotal)),
                    "countUnread": .number(JSONNumber(page.countUnread)),
                    "messages": .array(page.messages.map(\.adminJSON)),
                ])
        }
    }
}
