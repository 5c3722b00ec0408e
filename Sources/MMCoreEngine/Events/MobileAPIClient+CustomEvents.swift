import JSON

extension MobileAPIClient {
    /// `POST /mobile/1/appinstance/{pushRegId}/user/events/custom?validate=`, always with
    /// `App <applicationCode>` (never the user-data JWT), body `{"events": [...]}`.
    /// `validate=true` (`submitEventImmediately`) asks the server to refuse an unknown
    /// definition, property or type; with `false` (batches from the queue) it keeps
    /// whatever is well formed and sets invalid events aside itself.
    func postCustomEvents(_ own: String, _ events: [CustomEvent], validate: Bool) async throws(MobileMessagingError) {
        let body: JSONValue = ["events": .array(events.map(\.apiJSON))]
        _ = try await send(
            "POST", installationPath(own) + "/user/events/custom?validate=" + (validate ? "true" : "false"), pushRegistrationId: own,
            body: body)
    }
}
