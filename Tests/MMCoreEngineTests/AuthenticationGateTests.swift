import Testing

@testable import MMCoreEngine

@Suite struct AuthenticationGateTests {
    @Test func tenConsecutiveFailuresPauseAndASuccessOrANewTokenResets() {
        var gate = AuthenticationGate()
        for failure in 1..<AuthenticationGate.failureLimit {
            let paused = gate.recordFailure()
            #expect(!paused, "failure \(failure)")
        }
        gate.recordSuccess()
        #expect(gate.consecutiveFailures == 0)
        var paused = false
        for _ in 0..<AuthenticationGate.failureLimit { paused = gate.recordFailure() }
        #expect(paused && gate.isPaused)
        let again = gate.recordFailure()
        #expect(!again, "pausing is reported once")
        #expect(throws: MobileMessagingError.self) { try gate.check() }
        gate.reset()
        #expect(!gate.isPaused && gate.consecutiveFailures == 0)
        #expect(throws: Never.self) { try gate.check() }
    }
}
