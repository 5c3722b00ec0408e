import JSON
import Testing

@testable import MMCoreEngine

/// `backendBaseURL` at `init`: https, except for loopback hosts; no credentials; a URL
/// that parses, with a host, a valid port, and no query or fragment.
@Suite struct BackendBaseURLTests {
    func configure(_ url: String) -> Result<String, MobileMessagingError> {
        do {
            return .success(try Configuration(json: ["applicationCode": "app-1", "backendBaseURL": .string(url)]).backendBaseURL)
        } catch {
            return .failure(error)
        }
    }

    @Test(arguments: [
        ("https://mobile.infobip.com", "https://mobile.infobip.com"),
        ("https://mobile.infobip.com/", "https://mobile.infobip.com"),
        ("https://x.test/api/v1//", "https://x.test/api/v1"),
        ("HTTPS://Example.COM:8443/a-b_c~d%20e", "HTTPS://Example.COM:8443/a-b_c~d%20e"),
        ("https://10.0.0.1", "https://10.0.0.1"),
        ("https://[2001:db8::1]:443", "https://[2001:db8::1]:443"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.255.0.9/", "http://127.255.0.9"),
        ("http://localhost:9", "http://localhost:9"),
        ("http://LocalHost", "http://LocalHost"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("http://[0:0:0:0:0:0:0:1]", "http://[0:0:0:0:0:0:0:1]"),
        ("http://[::ffff:127.0.0.1]", "http://[::ffff:127.0.0.1]"),
        ("https://x.test:65535", "https://x.test:65535"),
    ])
    func accepted(url: String, stored: String) {
        #expect(configure(url) == .success(stored))
    }

    static let https = "must use https (plain http is allowed only for a loopback host: 127.0.0.0/8, ::1 or localhost)"
    static let credentials = "must not contain credentials (user:password@)"

    @Test(arguments: [
        // Plain http to anything but loopback.
        ("http://example.com", https), ("http://10.0.0.1:8080", https), ("http://128.0.0.1", https),
        ("http://0.0.0.0", https), ("http://127.0.0.1.example.com", https), ("http://localhost.example.com", https),
        ("http://127.1", https), ("http://[::2]", https), ("http://[::]", https), ("http://[::ffff:10.0.0.1]", https),
        // Credentials, never echoed.
        ("https://user:pass@x.test", credentials), ("https://user@x.test", credentials),
        ("https://:pass@x.test", credentials), ("http://u:p@127.0.0.1", credentials),
        // Not a URL we can use.
        ("ftp://x.test", "must be an http or https URL"), ("x.test", "must be an http or https URL"),
        ("//x.test", "must be an http or https URL"), ("https:x.test", "must be an http or https URL"),
        ("", "must be an http or https URL"),
        ("https://", "has no host"), ("https:///path", "has no host"), ("https://:443", "has no host"),
        ("http://[::1", "has an invalid IPv6 address"), ("http://[::1]x", "has an invalid IPv6 address"),
        ("http://[zz::1]", "has an invalid IPv6 address"), ("http://[1:2:3:4:5:6:7:8:9]", "has an invalid IPv6 address"),
        ("http://[::1::2]", "has an invalid IPv6 address"),
        ("https://x.test:99999", "has an invalid port"), ("https://x.test:0", "has an invalid port"),
        ("https://x.test:abc", "has an invalid port"), ("https://x.test:", "has an invalid port"),
        ("https://x.test:-1", "has an invalid port"),
        ("https://x test", "must not contain spaces or control characters"),
        ("https://x.test/a b", "must not contain spaces or control characters"),
        (" https://x.test", "must not contain spaces or control characters"),
        ("https://x.test\n", "must not contain spaces or control characters"),
        ("https://x.test\t/", "must not contain spaces or control characters"),
        ("https://x.test/?q=1", "must not have a query or a fragment"),
        ("https://x.test?q", "must not have a query or a fragment"),
        ("https://x.test#f", "must not have a query or a fragment"),
        ("https://x.test/#", "must not have a query or a fragment"),
        ("https://bücher.example", "must be ASCII (use the punycode form of an international domain name)"),
        ("https://x.test/%zz", "has an invalid path"), ("https://x.test/a\\b", "has an invalid path"),
        ("https://x.te$t", "has an invalid host"), ("https://x..test", "has an invalid host"),
    ])
    func refused(url: String, reason: String) throws {
        guard case .failure(let error) = configure(url) else {
            Issue.record("\(url) was accepted")
            return
        }
        #expect(error.code == "INVALID_CONFIGURATION")
        #expect(error.description == "Invalid configuration: backendBaseURL \(reason).")
    }

    @Test(arguments: ["https://alice:s3cr3t-Pa55@x.test", "http://alice:s3cr3t-Pa55@[::1", "https://alice:s3cr3t-Pa55@x.test:99999"])
    func credentialsAreNeverEchoed(url: String) throws {
        guard case .failure(let error) = configure(url) else {
            Issue.record("\(url) was accepted")
            return
        }
        #expect(!error.description.contains("alice") && !error.description.contains("s3cr3t"))
        #expect(!"\(error.data)".contains("s3cr3t"))
    }
}

/// `logging` (React Native, Flutter) is read as well as `loggingEnabled` (Cordova).
@Suite struct LoggingFlagTests {
    @Test(arguments: [
        (#"{"applicationCode": "a", "logging": true}"#, true),
        (#"{"applicationCode": "a", "logging": false}"#, false),
        (#"{"applicationCode": "a", "loggingEnabled": true}"#, true),
        (#"{"applicationCode": "a", "loggingEnabled": false, "logging": true}"#, true),
        (#"{"applicationCode": "a", "loggingEnabled": true, "logging": false}"#, true),
        (#"{"applicationCode": "a", "logging": null}"#, false),
    ])
    func eitherNameTurnsLoggingOn(json: String, enabled: Bool) throws {
        #expect(try Configuration(json: JSONValue(parsing: json)).loggingEnabled == enabled)
    }

    @Test func aWrongTypeNamesTheField() throws {
        #expect(throws: MobileMessagingError.invalidConfiguration("logging", "must be a boolean, got a string")) {
            try Configuration(json: JSONValue(parsing: #"{"applicationCode": "a", "logging": "yes"}"#))
        }
    }
}
