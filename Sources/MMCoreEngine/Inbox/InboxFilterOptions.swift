import JSON

/// `filterOptions` of the inbox fetches, as the plugins write them:
/// `{fromDateTime, toDateTime, topic | topics, limit}`, every key optional.
///
/// One `topic` is filtered by the server (`messageTopic`). Several `topics` are filtered
/// here, as both native SDKs do: up to ``multipleTopicsFetchLimit`` messages are
/// fetched without a topic, those of the topics kept, then cut to `limit`, with the
/// filtered counts added (``InboxPage/filtered(byTopics:limit:)``).
public struct InboxFilterOptions: Sendable, Equatable {
    /// Epoch milliseconds: messages sent at or after this time.
    var fromDateTime: Int64?
    /// Epoch milliseconds: messages sent before this time.
    var toDateTime: Int64?
    var topic: String?
    /// `nil` or non-empty; an empty list filters nothing (as the iOS SDK reads it).
    var topics: [String]?
    var limit: Int?

    /// How many messages a fetch for several topics asks for (both SDKs' constant).
    static let multipleTopicsFetchLimit = 1000
    static let keys: Set<String> = ["fromDateTime", "toDateTime", "topic", "topics", "limit"]

    init(fromDateTime: Int64? = nil, toDateTime: Int64? = nil, topic: String? = nil, topics: [String]? = nil, limit: Int? = nil) {
        self.fromDateTime = fromDateTime
        self.toDateTime = toDateTime
        self.topic = topic
        self.topics = topics
        self.limit = limit
    }

    /// Reads the argument: absent or `null` is no filter; an object; or, as Flutter's
    /// method channel passes it (`jsonEncode(filterOptions.toJson())`), a string
    /// holding one.
    ///
    /// - Throws: ``InvalidParameter`` naming the field: an unknown key, a wrong type, a
    ///   blank topic, a date-time in another form, a limit below 1, or `topic` and
    ///   `topics` together.
    public init(argument value: JSONValue?, path: String = "filterOptions") throws(InvalidParameter) {
        self.init()
        var value = value ?? .null
        if case .string(let text) = value {
            guard let parsed = try? JSONParser.parse(text) else {
                throw InvalidParameter(field: path, reason: "must be an object (or a string holding a JSON object)")
            }
            value = parsed
        }
        if value.isNull { return }
        let input = try WireInput(value, path: path)
        try input.rejectUnknownKeys(Self.keys)

        fromDateTime = try Self.dateTime(input, "fromDateTime")
        toDateTime = try Self.dateTime(input, "toDateTime")
        if let topic = try input.string("topic").value {
            guard !Self.isBlank(topic) else { throw InvalidParameter(field: input.fieldPath("topic"), reason: "must not be blank") }
            self.topic = topic
        }
        if let topics = try input.strings("topics").value {
            if let index = topics.firstIndex(where: Self.isBlank) {
                throw InvalidParameter(field: "\(input.fieldPath("topics"))[\(index)]", reason: "must not be blank")
            }
            guard topic == nil else {
                throw InvalidParameter(field: path, reason: "has both topic and topics; give one of them")
            }
            self.topics = topics.isEmpty ? nil : topics
        }
        switch input.object["limit"] {
        case nil, .null?: break
        case .number(let number)?:
            guard let limit = number.intValue, limit >= 1 else {
                throw InvalidParameter(field: input.fieldPath("limit"), reason: "must be a whole number of at least 1")
            }
            self.limit = limit
        case let other?:
            throw InvalidParameter(field: input.fieldPath("limit"), reason: "must be a number, got \(other.typeName)")
        }
    }

    /// The query of the fetch: several topics are not sent, and raise the limit.
    var serverQuery: InboxQuery {
        if topics != nil {
            return InboxQuery(dateTimeFrom: fromDateTime, dateTimeTo: toDateTime, messageTopic: nil, limit: Self.multipleTopicsFetchLimit)
        }
        return InboxQuery(dateTimeFrom: fromDateTime, dateTimeTo: toDateTime, messageTopic: topic, limit: limit)
    }

    /// The answer for these options from what the server sent for ``serverQuery``.
    func answer(from page: InboxPage) -> InboxPage {
        guard let topics else { return page }
        return page.filtered(byTopics: Set(topics), limit: limit)
    }

    private static func dateTime(_ input: WireInput, _ key: String) throws(InvalidParameter) -> Int64? {
        guard let text = try input.string(key).value else { return nil }
        guard let milliseconds = InboxDateTime.epochMilliseconds(text) else {
            throw InvalidParameter(field: input.fieldPath(key), reason: InboxDateTime.expectedForm)
        }
        return milliseconds
    }

    public static func isBlank(_ text: String) -> Bool { text.unicodeScalars.allSatisfy { $0.properties.isWhitespace } }
}

/// The query parameters of `GET /mobile/1/user/{externalUserId}/inbox/{platform}/messages`;
/// `nil` ones are left out (the server's default limit is 20).
struct InboxQuery: Sendable, Equatable {
    var dateTimeFrom: Int64?
    var dateTimeTo: Int64?
    var messageTopic: String?
    var limit: Int?

    /// `""` or `?name=value&...`, values percent-encoded.
    var queryString: String {
        var parts: [String] = []
        if let dateTimeFrom { parts.append("dateTimeFrom=\(dateTimeFrom)") }
        if let dateTimeTo { parts.append("dateTimeTo=\(dateTimeTo)") }
        if let messageTopic { parts.append("messageTopic=" + MobileAPIClient.percentEncodedSegment(messageTopic)) }
        if let limit { parts.append("limit=\(limit)") }
        return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
    }
}
