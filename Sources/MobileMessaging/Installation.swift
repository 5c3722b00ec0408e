import JSON

/// One app installation as the Mobile API knows it.
///
/// Field names follow the wrappers' Installation object; ``fields`` maps them to the
/// server's names. `deviceTimezoneId` and the server's `deviceTimezoneOffset` carry the
/// same string unchanged in both directions: the core has no time-zone database and
/// does not turn a zone id into an offset or back, so whatever the app or the server
/// wrote there is what the other side sees.
struct Installation: WireRecord {
    var pushRegistrationId: String?
    var isPrimaryDevice: Bool?
    var isPushRegistrationEnabled: Bool?
    var notificationsEnabled: Bool?
    var sdkVersion: String?
    var appVersion: String?
    var os: String?
    var osVersion: String?
    var deviceManufacturer: String?
    var deviceModel: String?
    var deviceSecure: Bool?
    var language: String?
    var deviceTimezoneId: String?
    var applicationUserId: String?
    var deviceName: String?
    var customAttributes: JSONObject?
    /// Server-only: the push service and its device token (not in the wrappers' shape).
    var pushServiceType: String?
    var pushServiceToken: String?

    init() {}

    static var fields: [RecordField<Installation>] {
        [
            RecordField("pushRegistrationId", api: "pushRegId", .string(\.pushRegistrationId), .readOnly),
            RecordField("isPrimaryDevice", api: "isPrimary", .bool(\.isPrimaryDevice)),
            RecordField("isPushRegistrationEnabled", api: "regEnabled", .bool(\.isPushRegistrationEnabled)),
            RecordField("notificationsEnabled", .bool(\.notificationsEnabled)),
            RecordField("sdkVersion", .string(\.sdkVersion)),
            RecordField("appVersion", .string(\.appVersion)),
            RecordField("os", .string(\.os)),
            RecordField("osVersion", .string(\.osVersion)),
            RecordField("deviceManufacturer", .string(\.deviceManufacturer)),
            RecordField("deviceModel", .string(\.deviceModel)),
            RecordField("deviceSecure", .bool(\.deviceSecure)),
            RecordField("language", .string(\.language)),
            RecordField("deviceTimezoneId", api: "deviceTimezoneOffset", .string(\.deviceTimezoneId)),
            RecordField("applicationUserId", .string(\.applicationUserId)),
            RecordField("deviceName", .string(\.deviceName)),
            RecordField("customAttributes", .attributes(\.customAttributes)),
            RecordField("pushServiceType", .string(\.pushServiceType), .serverOnly),
            RecordField("pushServiceToken", .string(\.pushServiceToken), .serverOnly),
        ]
    }
}

// MARK: - Conversions

extension Installation {
    /// From the Mobile API's shape (`pushRegId`, `isPrimary`, `regEnabled`, ...).
    init(api object: JSONObject) {
        self = Self.readFields(api: object)
    }

    /// The Mobile API's shape of the fields that are set.
    var apiJSON: JSONValue { .object(apiFields()) }

    /// The wrappers' shape of the fields that are set.
    var wrapperJSON: JSONValue { .object(wrapperFields()) }

    /// Reads a wrapper Installation object as a change to save. `pushRegistrationId`
    /// is accepted (so a fetched installation can be saved back) but never sent: the
    /// installation saved is always this one.
    static func update(from value: JSONValue, path: String = "installation") throws(InvalidParameter) -> RecordUpdate<Installation> {
        try parseUpdate(WireInput(value, path: path))
    }
}
