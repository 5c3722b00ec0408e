import JSON

// MARK: - The inbox (Bearer with the call's own token, or App)

extension MobileAPIClient {
    /// `GET /mobile/1/user/{externalUserId}/inbox/{apns|gcm}/messages?dateTimeFrom=&dateTimeTo=&messageTopic=&limit=`,
    /// with `Bearer <token>` when a token is given (`fetchInboxMessages`), else `App`.
    /// No `pushregistrationid`: the inbox is the person's, not this installation's (iOS
    /// sends none either).
    func fetchInbox(externalUserId: String, query: InboxQuery, token: String?) async throws(MobileMessagingError) -> InboxPage {
        let path = "/mobile/1/user/" + Self.percentEncodedSegment(externalUserId) + "/inbox/" + InboxPlatform.segment + "/messages"
        let answer = try await send("GET", path + query.queryString, token: token, pushRegistrationId: nil)
        guard let page = InboxPage(server: try requireObject(answer, what: "inbox")) else {
            throw .unexpectedResponse(
                status: answer.status, "The server answered HTTP \(answer.status) with an inbox whose counts or messages are not readable.")
        }
        return page
    }

    /// `POST /mobile/2/messages/seen` (App) with `{externalUserId, messages: [{messageId,
    /// timestampDelta, inbox: true}]}`; `pushregistrationid` when this installation has one.
    func sendInboxSeen(_ marks: InboxSeenMarks, now: Double, own: String?) async throws(MobileMessagingError) {
        _ = try await send("POST", "/mobile/2/messages/seen", pushRegistrationId: own, body: marks.requestBody(now: now))
    }
}
