import Foundation
import JSON
import Testing

/// The wrapper examples under `examples/`, run as an app developer would run them,
/// against a live mmserver (a JWT_ONLY application) and the built mmcore.
@Suite("Wrapper examples")
struct WrapperExamplesTests {
    static let examples = CoreProcess.packageRoot.appendingPathComponent("examples")

    /// Runs `node <script> --server-url ... --application-code ... --kid ... --secret ...`
    /// with MMCORE_BIN set; returns the JSON lines it printed.
    static func runNodeExample(_ script: String) async throws -> [JSONValue] {
        let node = try #require(ExternalTools.node, "node is not on PATH (scripts/setup)")
        let server = try await ServerProcess.start()
        defer { server.terminate() }
        let app = try await server.createApplication(authorization: "JWT_ONLY")
        let run = try await ServerProcess.runProgram("/usr/bin/env", [
            "MMCORE_BIN=\(CoreProcess.executableURL.path)", node, examples.appendingPathComponent(script).path,
            "--server-url", server.url.absoluteString, "--application-code", app.code, "--kid", app.keyId, "--secret", app.secret,
        ])
        #expect(run.status == 0, "\(script) exited \(run.status)\nstdout:\n\(run.stdout)\nstderr:\n\(run.stderr)")
        #expect(!run.stdout.contains(app.secret), "the example printed the secret")
        let lines = try run.stdout.split(separator: "\n").map { try JSONParser.parse(String($0)) }
        for line in lines where line["ok"] == false {
            Issue.record("\(script): step failed: \(line.serialized)")
        }
        return lines
    }

    static func step(_ lines: [JSONValue], _ name: String) -> JSONValue? {
        lines.first { $0["step"] == .string(name) }
    }

    @Test("Cordova-style: cordova.exec shim, callbacks, error.data", .enabled(if: ExternalTools.runs(ExternalTools.node != nil), "node is not on PATH"))
    func cordova() async throws {
        let lines = try await Self.runNodeExample("cordova/example.js")
        // The error callback receives error.data, exactly {code, description, domain, ...}.
        let missing = try #require(Self.step(lines, "saveUser without a token")?["error"])
        #expect(missing["code"] == "ACCESS_TOKEN_MISSING")
        #expect(missing["domain"] == "com.mobile-messaging.backend")
        #expect(missing["description"]?.stringValue?.isEmpty == false)
        #expect(Self.step(lines, "saveUser with an expired token")?["error"]?["code"] == "JWT_TOKEN_EXPIRED")
        #expect(Self.step(lines, "registrationUpdated")?["ok"] == true)
        #expect(Self.step(lines, "personalize")?["ok"] == true)
        #expect(Self.step(lines, "saveUser")?["ok"] == true)
        #expect(Self.step(lines, "fetchUser")?["ok"] == true)
        #expect(Self.step(lines, "getUser")?["ok"] == true)
        #expect(Self.step(lines, "userUpdated event") != nil, "the registerReceiver callback got no userUpdated")
        #expect(Self.step(lines, "mmcore exit")?["status"] == 0)
    }

    @Test("React Native-style: the plugin's callbacks and subscribe()", .enabled(if: ExternalTools.runs(ExternalTools.node != nil), "node is not on PATH"))
    func reactNative() async throws {
        let lines = try await Self.runNodeExample("react-native/example.js")
        #expect(Self.step(lines, "saveUser without a token")?["error"]?["httpStatus"] == 401)
        #expect(Self.step(lines, "getInstallation")?["isPrimaryDevice"]?.boolValue != nil, "isPrimaryDevice is a boolean")
        for name in ["registrationUpdated", "personalize", "saveUser", "getUser", "saveUser with a bad birthday", "saveInstallation",
                     "getInstallation",
                     "setInstallationAsPrimary", "depersonalize", "event userUpdated", "event personalized",
                     "event depersonalized", "event installationUpdated", "mmcore exit"] {
            #expect(Self.step(lines, name)?["ok"] == true, "step \(name): \(Self.step(lines, name)?.serialized ?? "missing")")
        }
    }

    @Test("the Cordova shim answers the core's requestUserDataJwt with the registered provider",
          .enabled(if: ExternalTools.runs(ExternalTools.node != nil), "node is not on PATH"))
    func cordovaShimAnswersCoreRequests() async throws {
        // A stand-in core (a shell pipeline would do; node is at hand) that sends one
        // requestUserDataJwt and echoes the wrapper's answer as a response to request 1.
        let node = try #require(ExternalTools.node)
        let fakeCore = FileManager.default.temporaryDirectory.appendingPathComponent("fake-mmcore-\(UUID().uuidString).js")
        try Data(#"""
            #!/usr/bin/env node
            const rl = require('node:readline').createInterface({ input: process.stdin });
            let init = null;
            rl.on('line', (line) => {
              const message = JSON.parse(line);
              if (message.method === 'init') {
                init = message.id;
                console.log(JSON.stringify({ jsonrpc: '2.0', id: 'mmcore-1', method: 'requestUserDataJwt', params: { reason: 'missing', externalUserId: 'ada' } }));
              } else if (message.id === 'mmcore-1') {
                console.log(JSON.stringify({ jsonrpc: '2.0', method: 'event', params: { eventName: 'registrationUpdated', payload: 'reg-1' } }));
                console.log(JSON.stringify({ jsonrpc: '2.0', id: init, result: message.result }));
              }
            });
            """#.utf8).write(to: fakeCore)
        defer { try? FileManager.default.removeItem(at: fakeCore) }
        let script = #"""
            const { createCordova } = require(process.argv[1]);
            const cordova = createCordova({ mmcore: process.argv[2], args: [process.argv[3]] });
            const seen = [];
            cordova.exec((event) => seen.push(event), null, 'MobileMessagingCordova', 'registerReceiver', [['registrationUpdated']]);
            cordova.exec((params) => `token-for-${params.externalUserId}-${params.reason}`, null, 'MobileMessagingCordova', 'registerUserDataJwtProvider', []);
            cordova.exec((result) => { console.log(JSON.stringify({ result, seen })); cordova.close(); },
                         (error) => { console.log(JSON.stringify({ error })); cordova.close(); },
                         'MobileMessagingCordova', 'init', [{ applicationCode: 'app' }]);
            """#
        let run = try await ServerProcess.runProgram(node, [
            "-e", script, Self.examples.appendingPathComponent("cordova/cordova-shim.js").path, node, fakeCore.path,
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let output = try JSONParser.parse(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(output["result"] == "token-for-ada-missing")
        #expect(output["seen"] == [["registrationUpdated", "reg-1"]])
    }

    @Test("python/with_local_server.py provisions a server and runs an example against it",
          .enabled(if: ExternalTools.runs(ExternalTools.node != nil && ExternalTools.python != nil), "node or python3 missing"))
    func withLocalServer() async throws {
        let python = try #require(ExternalTools.python, "python3 is not on PATH")
        let node = try #require(ExternalTools.node, "node is not on PATH")
        let run = try await ServerProcess.runProgram("/usr/bin/env", [
            "MMCORE_BIN=\(CoreProcess.executableURL.path)", "MMSERVER_BIN=\(try ServerProcess.executable().path)",
            python, Self.examples.appendingPathComponent("python/with_local_server.py").path, "--authorization", "JWT_ONLY",
            "--", node, Self.examples.appendingPathComponent("react-native/example.js").path,
        ])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains(#"{"step":"mmcore exit","ok":true,"status":0}"#), "\(run.stdout)")
    }

    @Test("the Flutter README shows the PlatformException mapping the schema documents")
    func flutterReadme() throws {
        let readme = try String(contentsOf: Self.examples.appendingPathComponent("flutter/README.md"), encoding: .utf8)
        #expect(readme.contains("PlatformException(code: data['code']"))
        // What the real plugin sends: jsonEncode'd models in, jsonDecode'd answers out.
        for call in ["invokeMethod('init', jsonEncode(configuration.toJson()))", "invokeMethod('saveUser', jsonEncode(userData.toJson()))",
                     "invokeMethod('personalize', jsonEncode(context.toJson()))",
                     "invokeMethod('saveInstallation', jsonEncode(installation.toJson()))",
                     "jsonDecode(await _channel.invokeMethod('getUser'))", "jsonDecode(await _channel.invokeMethod('getInstallation'))"] {
            #expect(readme.contains(call), "the Flutter README does not show \(call)")
        }
        let schema = try SchemaExamplesReplayTests.schema()
        #expect(schema["x-wrapper-error-mapping"]?["flutter"] == "PlatformException(code: data.code, message: data.description, details: data).")
    }
}
