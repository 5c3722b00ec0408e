import JSON

/// One inbox message in the wrappers' shape: one model for all three plugins.
///
/// The Mobile API answers a message in the shape of the platform segment asked for:
/// `apns` as an APNs payload (`aps.alert.title`, `internalData` an object), `gcm` with
/// `gcm.notification.*` keys and `customPayload` / `internalData` as JSON text. Both,
/// and plain keys (`title`, `body`...), are read here, so the answer does not depend on
/// the segment. Topic and seen state come from `internalData.inbox` (both SDKs).
///
/// The fields are Android's `InboxMapper.toJSON` (which the Flutter and React Native
/// typings follow): `internalData` is answered as JSON text, `receivedTimestamp` is the
/// send time as iOS answers it (Android's is the fetch time), and iOS's
/// `originalPayload` is not answered (`docs/native-parity.md`).
struct InboxMessage: Sendable, Equatable {
    let messageId: String
    let topic: String?
    var seen: Bool
    /// Every other field, in the wrappers' names.
    private let fields: JSONObject

    /// `nil` for an entry without a message id, which no wrapper could show or mark seen.
    init?(server value: JSONValue) {
        guard case .object(let message) = value else { return nil }
        let aps = message["aps"]?.objectValue
        let alert = aps?["alert"]
        func text(_ key: String, apns: JSONValue? = nil) -> String? {
            message[key]?.stringValue ?? message["gcm.notification." + key]?.stringValue ?? apns?.stringValue
        }
        guard let messageId = text("messageId"), !messageId.isEmpty else { return nil }
        let internalData = Self.object(message["internalData"])
        let inbox = internalData?["inbox"]?.objectValue

        self.messageId = messageId
        topic = inbox?["topic"]?.stringValue
        seen = inbox?["seen"]?.boolValue ?? false

        var fields = JSONObject()
        func put(_ key: String, _ value: String?) { if let value { fields[key] = .string(value) } }
        put("title", text("title", apns: alert?["title"]))
        put("body", text("body", apns: alert?.stringValue.map(JSONValue.string) ?? alert?["body"]))
        put("sound", text("sound", apns: aps?["sound"]))
        if let vibrate = Self.flag(message["vibrate"] ?? message["gcm.notification.vibrate"]) { fields["vibrate"] = .bool(vibrate) }
        let silent = Self.flag(message["silent"] ?? message["gcm.notification.silent"]) ?? (internalData?["silent"] != nil)
        fields["silent"] = .bool(silent)
        put("category", text("category", apns: aps?["category"]))
        if let customPayload = Self.object(message["customPayload"]) { fields["customPayload"] = .object(customPayload) }
        if let internalData { fields["internalData"] = .string(JSONValue.object(internalData).serialized) }
        put("contentUrl", internalData?["atts"]?.arrayValue?.first?["url"]?.stringValue)
        for key in ["browserUrl", "deeplink", "webViewUrl", "inAppOpenTitle", "inAppDismissTitle"] {
            put(key, internalData?[key]?.stringValue)
        }
        if let sent = internalData?["sendDateTime"]?.numberValue {
            fields["sentTimestamp"] = .number(sent)
            fields["receivedTimestamp"] = .number(sent)
        }
        self.fields = fields
    }

    var wrapperJSON: JSONValue {
        var object: JSONObject = ["messageId": .string(messageId)]
        if let topic { object["topic"] = .string(topic) }
        object["seen"] = .bool(seen)
        for member in fields { object[member.key] = member.value }
        return .object(object)
    }

    /// An object, or JSON text holding one (the `gcm` form).
    private static func object(_ value: JSONValue?) -> JSONObject? {
        switch value {
        case .object(let object)?: return object
        case .string(let text)?: return (try? JSONParser.parse(text))?.objectValue
        default: return nil
        }
    }

    /// A boolean, or the text `"true"` / `"false"` (the `gcm` form).
    private static func flag(_ value: JSONValue?) -> Bool? {
        switch value {
        case .bool(let flag)?: return flag
        case .string(let text)?: return text == "true" ? true : text == "false" ? false : nil
        default: return nil
        }
    }
}
