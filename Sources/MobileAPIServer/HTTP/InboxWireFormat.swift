import JSON

/// The push cloud an inbox fetch names (`.../inbox/{apns|gcm}/messages`). It decides the
/// shape of each message, because each SDK parses its inbox messages with the mapper it
/// uses for pushes of its platform.
enum InboxCloud: String, Sendable, CaseIterable {
    /// iOS: an APNs payload (`aps.alert.title/body`, `aps.sound`, `internalData` and
    /// `customPayload` as objects), as the iOS SDK's message model reads it.
    case apns
    /// Android: the FCM data message (`gcm.notification.*` members; `internalData` and
    /// `customPayload` as JSON text), as the api-java client's message response reads it.
    case gcm
}

extension InboxMessageRecord {
    /// `internalData`: the send time (epoch ms) and the inbox's topic and seen state,
    /// where both SDKs look for them; a silent message's texts under `silent` (iOS).
    func internalData(for cloud: InboxCloud) -> JSONObject {
        var data: JSONObject = [
            "sendDateTime": .number(JSONNumber(Int(sentTimestamp))),
            "inbox": ["topic": .string(topic), "seen": .bool(seen)],
        ]
        if silent && cloud == .apns {
            var texts: JSONObject = ["body": .string(body)]
            if let title { texts["title"] = .string(title) }
            if let sound { texts["sound"] = .string(sound) }
            data["silent"] = .object(texts)
        }
        return data
    }

    func wireJSON(for cloud: InboxCloud) -> JSONValue {
        switch cloud {
        case .apns:
            var aps = JSONObject()
            if silent {
                aps["content-available"] = 1
            } else {
                var alert: JSONObject = [:]
                if let title { alert["title"] = .string(title) }
                alert["body"] = .string(body)
                aps["alert"] = .object(alert)
                if let sound { aps["sound"] = .string(sound) }
            }
            return [
                "messageId": .string(messageId), "aps": .object(aps), "internalData": .object(internalData(for: .apns)),
                "customPayload": .object(customPayloadObject), "silent": .bool(silent),
            ]
        case .gcm:
            var json: JSONObject = ["gcm.notification.messageId": .string(messageId)]
            if let title { json["gcm.notification.title"] = .string(title) }
            json["gcm.notification.body"] = .string(body)
            if let sound { json["gcm.notification.sound"] = .string(sound) }
            json["gcm.notification.vibrate"] = .bool(vibrate)
            json["gcm.notification.silent"] = .bool(silent)
            json["customPayload"] = .string(JSONValue.object(customPayloadObject).serialized)
            json["internalData"] = .string(JSONValue.object(internalData(for: .gcm)).serialized)
            return .object(json)
        }
    }
}
