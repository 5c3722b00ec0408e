import Foundation
import JSON
import Testing

/// A JWT never reaches a log line, even at `trace` and even when it is refused on the
/// client (the refusal path logs only the token's summary: its `kid` and claim names).
@Suite struct TokenSecrecyEndToEndTests {
    @Test func noPartOfARefusedOrProviderSuppliedTokenReachesStderr() async throws {
        let harness = try await CoreHarness.start(coreArguments: ["--log-level", "trace"])
        do {
            try await harness.initializeAndRegister()
            let expired = try await harness.token(for: "ada", lifetime: -30)
            let valid = try await harness.token(for: "ada")
            let validParts = valid.split(separator: ".")
            // Structure refusals of every row that gets past the part count.
            let malformed = [
                "\(validParts[0]).bm90LWpzb24tcGF5bG9hZA.\(validParts[2])",
                "bm90LWpzb24taGVhZGVy.\(validParts[1]).\(validParts[2])",
                "\(validParts[0]).\(validParts[1]).\(validParts[2]).c2lnbmF0dXJlMg",
            ]
            for token in [expired] + malformed {
                #expect(try await harness.call("setUserDataJwt", [.string(token)]).result == .null)
                for (method, params) in [
                    ("saveUser", JSONValue.array([["firstName": "x"]])), ("fetchUser", []),
                    ("personalize", [["userIdentity": ["externalUserId": "ada"]]]),
                ] {
                    let outcome = try await harness.call(method, params)
                    #expect(outcome.errorCode?.hasPrefix("JWT_TOKEN_") == true, "\(method): \(outcome)")
                }
            }

            // The opt-in provider hands out a token that fails the checks: refused, not logged.
            let supplied = try await harness.token(for: "ada", lifetime: -60)
            harness.core.answerClientRequests { _, _ in .string(supplied) }
            var configuration = harness.configuration.objectValue!
            configuration["userDataJwtProvider"] = true
            #expect(try await harness.call("init", [.object(configuration)]).result == .null)
            #expect(try await harness.call("setUserDataJwt", [nil]).result == .null)
            _ = try await harness.call("fetchUser")
            #expect(!harness.core.clientRequests.isEmpty, "the provider was asked")

            // A valid token used for real is not logged either.
            #expect(try await harness.call("setUserDataJwt", [.string(valid)]).result == .null)
            let personalized = try await harness.call("personalize", [["userIdentity": ["externalUserId": "ada"]]])
            #expect(personalized.result?["externalUserId"] == "ada", "\(personalized)")

            try harness.core.closeInput()
            _ = try await harness.core.waitForExit()
            let stderr = harness.core.standardError
            #expect(stderr.contains("trace") || stderr.contains("debug"), "the log ran at trace level")
            for token in [expired, valid, supplied] + malformed {
                for part in token.split(separator: ".") where part.count >= 8 {
                    #expect(!stderr.contains(part), "a part of a token reached stderr: \(part.prefix(12))...")
                }
            }
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }
}
