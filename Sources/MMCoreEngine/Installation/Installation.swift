import JSON

/// One app installation as the Mobile API knows it.
///
/// Field names follow the wrappers' Installation object (iOS
/// `MMInstallation.dictionaryRepresentation`, Android `Installation`, Flutter
/// `Installation.toJson`); ``fields`` maps them to the server's names.
/// `deviceTimezoneOffset` is the same string on both sides: the core has no time-zone
/// database and passes on whatever the app or the server wrote there.
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
    var deviceTimezoneOffset: String?
    var applicationUserId: String?
    var deviceName: String?
    var customAttributes: JSONObject?
    /// The push service and its device token: kept from the server's copy, not shown
    /// (the schema's Installation has no such keys); accepted from the wrapper and
    /// ignored, since Flutter's `Installation.toJson` always writes them.
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
            RecordField("deviceTimezoneOffset", .string(\.deviceTimezoneOffset)),
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

    /// The wrappers' shape of the fields that are set, with `isPrimaryDevice` always a
    /// boolean (`false` when the server copy has none), as the native bridges answer it
    /// (iOS `MMInstallation.isPrimaryDevice` is a `Bool`, default `false`).
    var wrapperJSON: JSONValue {
        var shown = self
        shown.isPrimaryDevice = isPrimaryDevice ?? false
        return .object(shown.wrapperFields())
    }

    /// The name React Native's typings (`index.d.ts`) give `deviceTimezoneOffset`; read
    /// as that field, never written.
    static let deviceTimezoneAlias = "deviceTimezoneId"

    /// Reads a wrapper Installation object as a change to save. `pushRegistrationId`
    /// is accepted (so a fetched installation can be saved back) but never sent: the
    /// installation saved is always this one. `pushServiceType` and `pushServiceToken`
    /// are type-checked and ignored.
    static func update(from value: JSONValue, path: String = "installation") throws(InvalidParameter) -> RecordUpdate<Installation> {
        let input = try WireInput(value, path: path).renaming(deviceTimezoneAlias, to: "deviceTimezoneOffset")
        return try parseUpdate(input)
    }
}
