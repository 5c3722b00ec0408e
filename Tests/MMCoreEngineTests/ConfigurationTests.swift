import JSON
import Testing

@testable import MMCoreEngine

@Suite struct ConfigurationTests {
    func failure(_ json: JSONValue) -> MobileMessagingError? {
        do {
            _ = try Configuration(json: json)
            return nil
        } catch {
            return error
        }
    }

    @Test func defaultsWithOnlyTheApplicationCode() throws {
        let configuration = try Configuration(json: ["applicationCode": "app-1"])
        #expect(configuration == Configuration(applicationCode: "app-1"))
        #expect(configuration.backendBaseURL == "https://mobile.infobip.com")
        #expect(configuration.userDataJwt == nil)
        #expect(!configuration.userDataPersistingDisabled)
        #expect(!configuration.loggingEnabled)
        #expect(configuration.requestTimeoutSeconds == 20)
        #expect(!configuration.userDataJwtProvider)
        #expect(configuration.userDataJwtProviderLeewaySeconds == 30)
    }

    @Test func readsEveryKeyItUses() throws {
        let configuration = try Configuration(
            json: [
                "applicationCode": "app-1", "userDataJwt": "a.b.c", "backendBaseURL": "http://127.0.0.1:8080/",
                "privacySettings": ["userDataPersistingDisabled": true, "carrierInfoSendingDisabled": true],
                "loggingEnabled": true, "requestTimeoutSeconds": 2.5, "userDataJwtProvider": true,
                "userDataJwtProviderLeewaySeconds": 10,
            ])
        #expect(configuration.userDataJwt == "a.b.c")
        #expect(configuration.backendBaseURL == "http://127.0.0.1:8080")
        #expect(configuration.userDataPersistingDisabled)
        #expect(configuration.loggingEnabled)
        #expect(configuration.requestTimeoutSeconds == 2.5)
        #expect(configuration.userDataJwtProvider)
        #expect(configuration.userDataJwtProviderLeewaySeconds == 10)
    }

    @Test func acceptsAndIgnoresTheWrappersOtherKeys() throws {
        let configuration = try Configuration(
            json: [
                "applicationCode": "app-1",
                "ios": ["notificationTypes": ["alert", "badge", "sound"], "forceCleanup": false],
                "android": ["notificationIcon": "ic_notification", "multipleNotifications": true],
                "notificationCategories": [["identifier": "category", "actions": []]],
                "cordovaPluginVersion": "7.1.0", "inAppChatEnabled": true, "fullFeaturedInAppsEnabled": false,
                "defaultMessageStorage": true, "webRTCUI": ["configurationId": "x"], "somethingNew": [1, 2, 3],
            ])
        #expect(configuration == Configuration(applicationCode: "app-1"))
    }

    @Test func nullValuesCountAsLeftOut() throws {
        let configuration = try Configuration(
            json: [
                "applicationCode": "app-1", "userDataJwt": nil, "backendBaseURL": nil, "privacySettings": nil,
                "loggingEnabled": nil, "requestTimeoutSeconds": nil,
            ])
        #expect(configuration == Configuration(applicationCode: "app-1"))
    }

    @Test(arguments: [
        ("{}", "applicationCode"),
        (#"{"applicationCode": ""}"#, "applicationCode"),
        (#"{"applicationCode": 42}"#, "applicationCode"),
        (#"{"applicationCode": null}"#, "applicationCode"),
        (#"{"applicationCode": "a", "userDataJwt": 1}"#, "userDataJwt"),
        (#"{"applicationCode": "a", "backendBaseURL": true}"#, "backendBaseURL"),
        (#"{"applicationCode": "a", "backendBaseURL": "ftp://example.com"}"#, "backendBaseURL"),
        (#"{"applicationCode": "a", "backendBaseURL": "https://"}"#, "backendBaseURL"),
        (#"{"applicationCode": "a", "backendBaseURL": "https://x.test/?q=1"}"#, "backendBaseURL"),
        (#"{"applicationCode": "a", "privacySettings": true}"#, "privacySettings"),
        (#"{"applicationCode": "a", "privacySettings": {"userDataPersistingDisabled": "yes"}}"#,
         "privacySettings.userDataPersistingDisabled"),
        (#"{"applicationCode": "a", "loggingEnabled": "true"}"#, "loggingEnabled"),
        (#"{"applicationCode": "a", "requestTimeoutSeconds": "20"}"#, "requestTimeoutSeconds"),
        (#"{"applicationCode": "a", "requestTimeoutSeconds": 0}"#, "requestTimeoutSeconds"),
        (#"{"applicationCode": "a", "requestTimeoutSeconds": -1}"#, "requestTimeoutSeconds"),
        (#"{"applicationCode": "a", "userDataJwtProvider": 1}"#, "userDataJwtProvider"),
        (#"{"applicationCode": "a", "userDataJwtProviderLeewaySeconds": []}"#, "userDataJwtProviderLeewaySeconds"),
        (#"{"applicationCode": "a", "userDataJwtProviderTimeoutSeconds": 61}"#, "userDataJwtProviderTimeoutSeconds"),
        (#"{"applicationCode": "a", "userDataJwtProviderTimeoutSeconds": 0}"#, "userDataJwtProviderTimeoutSeconds"),
    ])
    func refusesWithTheFieldNamed(json: String, field: String) throws {
        let error = try #require(failure(JSONValue(parsing: json)))
        #expect(error.code == "INVALID_CONFIGURATION")
        #expect(error.numericCode == 1002)
        #expect(error.domain == "com.mobile-messaging")
        #expect(error.description.hasPrefix("Invalid configuration: \(field) "), "\(error.description)")
    }

    @Test(arguments: ["[]", "\"app-1\"", "null", "1"])
    func refusesANonObject(json: String) throws {
        let error = try #require(failure(JSONValue(parsing: json)))
        #expect(error.code == "INVALID_CONFIGURATION")
        #expect(error.description.contains("configuration must be an object"))
    }

    /// The provider's wait is bounded at a minute: a wrapper that never answers must not
    /// hold a call (and the lane behind it) for longer.
    @Test func theProviderTimeoutGoesUpToSixtySeconds() throws {
        let configuration = try Configuration(json: ["applicationCode": "a", "userDataJwtProviderTimeoutSeconds": 60])
        #expect(configuration.userDataJwtProviderTimeoutSeconds == 60)
    }
}
