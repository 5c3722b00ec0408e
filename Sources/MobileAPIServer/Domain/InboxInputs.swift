import Foundation
import JSON

/// A message the admin API puts into an inbox, validated:
/// `{"body", "title"?, "topic"?, "customPayload"?, "messageId"?, "sentTimestamp"?, "sound"?, "vibrate"?, "silent"?}`.
struct InboxMessageInput: Sendable {
    var messageId: String?
    var title: String?
    var body: String
    var topic: String
    var sound: String?
    var vibrate: Bool
    var silent: Bool
    var customPayload: JSONObject
    /// Epoch milliseconds; `nil` is the time it is put.
    var sentTimestamp: Int64?

    static let defaultTopic = "default"

    init(_ object: JSONObject) throws(ServiceError) {
        let reader = FieldReader(object)
        try reader.rejectUnknown(allowed: [
            "messageId", "title", "body", "topic", "sound", "vibrate", "silent", "customPayload", "sentTimestamp",
        ])
        guard let bodyValue = reader.value("body") else { throw .requestFormatInvalid("body is required") }
        body = try Validate.string(bodyValue, field: "body", maxLength: Limits.customAttributeStringLength)
        func optionalString(_ key: String, maxLength: Int = Limits.stringLength) throws(ServiceError) -> String? {
            guard let value = reader.value(key), !value.isNull else { return nil }
            let text = try Validate.string(value, field: key, maxLength: maxLength)
            guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw .requestFormatInvalid("\(key) must not be empty")
            }
            return text
        }
        messageId = try optionalString("messageId")
        title = try optionalString("title", maxLength: Limits.customAttributeStringLength)
        topic = try optionalString("topic") ?? Self.defaultTopic
        sound = try optionalString("sound")
        vibrate = try reader.bool("vibrate") ?? true
        silent = try reader.bool("silent") ?? false
        customPayload = JSONObject()
        if let value = reader.value("customPayload"), !value.isNull {
            guard let object = value.objectValue else {
                throw .requestFormatInvalid("customPayload must be an object, got \(value.typeName)")
            }
            customPayload = object
        }
        if let value = reader.value("sentTimestamp"), !value.isNull {
            guard let millis = value.numberValue?.intValue.map(Int64.init), millis >= 0 else {
                throw .requestFormatInvalid("sentTimestamp must be epoch milliseconds (a non-negative integer)")
            }
            sentTimestamp = millis
        }
    }
}

/// The filters of an inbox fetch, from its query:
/// `dateTimeFrom`, `dateTimeTo` (epoch ms, inclusive), `messageTopic`, `limit`.
struct InboxFilter: Sendable, Equatable {
    static let defaultLimit = 20
    /// The natives ask for 1,000 when they filter several topics themselves.
    static let maximumLimit = 1000

    var from: Int64?
    var to: Int64?
    var topic: String?
    var limit = defaultLimit

    init(from: Int64? = nil, to: Int64? = nil, topic: String? = nil, limit: Int = defaultLimit) {
        self.from = from
        self.to = to
        self.topic = topic
        self.limit = limit
    }

    /// Absent or empty parameters are no filter.
    init(query: (String) -> String?) throws(ServiceError) {
        func millis(_ name: String) throws(ServiceError) -> Int64? {
            guard let text = query(name), !text.isEmpty else { return nil }
            guard let value = Int64(text), value >= 0 else {
                throw .requestFormatInvalid("\(name) must be epoch milliseconds, got \(text)")
            }
            return value
        }
        from = try millis("dateTimeFrom")
        to = try millis("dateTimeTo")
        if let text = query("messageTopic"), !text.isEmpty { topic = text }
        if let text = query("limit"), !text.isEmpty {
            guard let value = Int(text), (1...Self.maximumLimit).contains(value) else {
                throw .requestFormatInvalid("limit must be an integer from 1 to \(Self.maximumLimit), got \(text)")
            }
            limit = value
        }
    }
}

/// A seen report (`POST /mobile/2/messages/seen`):
/// `{"externalUserId"?, "messages": [{"messageId", "timestampDelta", "inbox"?}]}`.
/// Marks without `inbox: true` are seen reports of pushes, which this server does not
/// keep; they are accepted and ignored.
struct SeenReport: Sendable {
    struct Mark: Sendable, Equatable {
        var messageId: String
        /// Seconds between the message being seen and the report being sent.
        var timestampDelta: Int64
        var inbox: Bool
    }

    /// A hundred years: no message was seen longer ago, and the arithmetic stays in range.
    static let maximumDelta: Int64 = 100 * 366 * 86_400

    var externalUserId: String?
    var marks: [Mark]

    var inboxMarks: [Mark] { marks.filter(\.inbox) }

    init(_ object: JSONObject) throws(ServiceError) {
        let reader = FieldReader(object)
        try reader.rejectUnknown(allowed: ["externalUserId", "messages"])
        if let value = reader.value("externalUserId"), !value.isNull {
            externalUserId = try Validate.nonEmptyString(value, field: "externalUserId")
        }
        guard let value = reader.value("messages") else { throw .requestFormatInvalid("messages is required") }
        guard let array = value.arrayValue else {
            throw .requestFormatInvalid("messages must be an array, got \(value.typeName)")
        }
        guard array.count <= InboxFilter.maximumLimit else {
            throw .requestFormatInvalid("messages has more than \(InboxFilter.maximumLimit) entries")
        }
        marks = []
        for (index, element) in array.enumerated() {
            let field = "messages[\(index)]"
            guard let mark = element.objectValue else {
                throw .requestFormatInvalid("\(field) must be an object, got \(element.typeName)")
            }
            let markReader = FieldReader(mark, prefix: field + ".")
            try markReader.rejectUnknown(allowed: ["messageId", "timestampDelta", "inbox"])
            guard let id = mark["messageId"] else { throw .requestFormatInvalid("\(field).messageId is required") }
            let messageId = try Validate.nonEmptyString(id, field: "\(field).messageId")
            var delta: Int64 = 0
            if let value = mark["timestampDelta"], !value.isNull {
                guard let seconds = value.numberValue?.intValue.map(Int64.init), (0...Self.maximumDelta).contains(seconds) else {
                    throw .requestFormatInvalid("\(field).timestampDelta must be whole seconds from 0 to \(Self.maximumDelta)")
                }
                delta = seconds
            }
            marks.append(Mark(messageId: messageId, timestampDelta: delta, inbox: try markReader.bool("inbox") ?? false))
        }
        if !inboxMarks.isEmpty && externalUserId == nil {
            throw .requestFormatInvalid("externalUserId is required with inbox seen marks")
        }
    }
}
