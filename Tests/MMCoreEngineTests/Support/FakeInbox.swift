import JSON

@testable import MMCoreEngine

/// The inbox routes of the Mobile API, served on a ``FakeMobileAPI`` through its hook
/// (every other request falls through to the fake): one inbox per external user id,
/// messages in the `gcm` shape, seen marks applied, and a switchable network fault.
final class FakeInbox: Sendable {
    struct Message: Sendable {
        let id: String
        let topic: String
        var seen: Bool = false
        var sentAt: Int64 = 1_700_000_000_000
    }

    let messages = Locked<[String: [Message]]>([:])
    /// Seen marks fail with this while set.
    let seenFailure = Locked<HTTPTransportError?>(nil)
    /// Fetches fail with this while set.
    let fetchFailure = Locked<HTTPTransportError?>(nil)
    /// User PATCHes (served by the fake) fail with this while set: for order checks.
    let userPatchFailure = Locked<HTTPTransportError?>(nil)
    /// `JWT_ONLY`: a fetch with `App` is refused.
    let requireBearer = Locked(false)

    init(on api: FakeMobileAPI) {
        api.setHook { [self] request in
            if request.isUserPatch, let failure = userPatchFailure.current { throw failure }
            guard request.isInbox || request.isInboxSeen else { return nil }
            if let failure = (request.isInbox ? fetchFailure : seenFailure).current { throw failure }
            return request.isInbox ? fetch(request) : markSeen(request)
        }
    }

    func put(_ externalUserId: String, _ message: Message) {
        messages.withLock { $0[externalUserId, default: []].append(message) }
    }

    func isSeen(_ externalUserId: String, _ id: String) -> Bool {
        messages.current[externalUserId]?.first { $0.id == id }?.seen ?? false
    }

    private func fetch(_ request: RecordedRequest) -> HTTPResponse {
        if requireBearer.current && !request.usesBearer { return FakeMobileAPI.error(401, "ACCESS_TOKEN_MISSING", "Access token is missing") }
        let segments = request.path.split(separator: "/").map(String.init)
        let user = segments[3].percentDecoded
        var query: [String: String] = [:]
        for pair in (request.query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { query[parts[0]] = parts[1].percentDecoded }
        }
        var all = messages.current[user] ?? []
        if let topic = query["messageTopic"] { all = all.filter { $0.topic == topic } }
        if let from = query["dateTimeFrom"].flatMap(Int64.init) { all = all.filter { $0.sentAt >= from } }
        if let to = query["dateTimeTo"].flatMap(Int64.init) { all = all.filter { $0.sentAt < to } }
        let limit = query["limit"].flatMap(Int.init) ?? 20
        let shown: [JSONValue] = all.prefix(limit).map { message in
            let internalData: JSONValue = [
                "inbox": ["topic": .string(message.topic), "seen": .bool(message.seen)], "sendDateTime": .number(JSONNumber(Int(message.sentAt))),
            ]
            return [
                "gcm.notification.messageId": .string(message.id), "gcm.notification.title": .string("Title \(message.id)"),
                "gcm.notification.body": "Body", "internalData": .string(internalData.serialized), "customPayload": "{\"k\":\"v\"}",
            ]
        }
        let total = messages.current[user] ?? []
        return FakeMobileAPI.json(
            200,
            [
                "countTotal": .number(JSONNumber(total.count)), "countUnread": .number(JSONNumber(total.filter { !$0.seen }.count)),
                "messages": .array(shown),
            ])
    }

    private func markSeen(_ request: RecordedRequest) -> HTTPResponse {
        guard let user = request.body?["externalUserId"]?.stringValue, let marks = request.body?["messages"]?.arrayValue else {
            return FakeMobileAPI.error(400, "REQUEST_FORMAT_INVALID", "Bad seen body")
        }
        let ids = Set(marks.compactMap { $0["messageId"]?.stringValue })
        messages.withLock { inboxes in
            guard var inbox = inboxes[user] else { return }
            for index in inbox.indices where ids.contains(inbox[index].id) { inbox[index].seen = true }
            inboxes[user] = inbox
        }
        return HTTPResponse(status: 200)
    }
}

extension RecordedRequest {
    var isInbox: Bool { method == "GET" && path.hasPrefix("/mobile/1/user/") && path.hasSuffix("/messages") }
    var isInboxSeen: Bool { method == "POST" && path == "/mobile/2/messages/seen" }
}

extension String {
    /// `%XX` sequences decoded (the fake's paths and queries are ASCII).
    fileprivate var percentDecoded: String {
        var bytes: [UInt8] = []
        var iterator = Array(utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension JSONValue {
    /// Element `index` of an array; `nil` past its end or for anything else.
    subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }
}
