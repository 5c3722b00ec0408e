import Testing

@testable import MMCoreEngine

/// The first registration's bookkeeping alone: which attempt is current, the failure
/// count, and the calls waiting for the id, each resumed exactly once.
@Suite struct RegistrationStateTests {
    /// A task that does nothing: the bookkeeping only holds it (to cancel it on reset).
    static func idle() -> Task<Void, Never> { Task {} }

    @Test func onlyTheAttemptInFlightIsCurrent() throws {
        var state = RegistrationState()
        #expect(!state.isRunning)
        state.begin { _ in Self.idle() }
        let first = try #require(state.attempt?.number)
        #expect(state.isRunning && state.isCurrent(first))
        state.finish(succeeded: false)
        #expect(!state.isRunning && !state.isCurrent(first), "a finished attempt is stale")
        state.begin { _ in Self.idle() }
        #expect(!state.isCurrent(first), "a later attempt has a new number")
    }

    @Test(arguments: [([false, false, false], 3), ([false, true], 0), ([false, false, true, false], 1)])
    func failuresCountUntilASuccess(outcomes: [Bool], failures: Int) {
        var state = RegistrationState()
        for succeeded in outcomes {
            state.begin { _ in Self.idle() }
            state.finish(succeeded: succeeded)
        }
        #expect(state.failures == failures)
    }

    @Test func everyWaiterIsResumedOnceWithTheOutcome() async {
        var state = RegistrationState()
        let ids = (0..<3).map { _ in state.reserveWaiterID() }
        #expect(Set(ids).count == 3)
        let results = await withTaskGroup(of: Result<String, MobileMessagingError>.self) { group in
            // Each continuation is stored in the state, then all are resumed by one call.
            let stream = AsyncStream.makeStream(of: RegistrationState.Waiter.self)
            for _ in ids {
                group.addTask {
                    await withCheckedContinuation { continuation in
                        stream.continuation.yield(RegistrationState.Waiter(continuation: continuation, timer: Self.idle()))
                    }
                }
            }
            var received = 0
            for await waiter in stream.stream {
                state.addWaiter(ids[received], waiter)
                received += 1
                if received == ids.count { break }
            }
            state.resumeAll(.success("reg-1"))
            state.resumeAll(.failure(.notInitialized))  // nobody is left to resume twice
            var results: [Result<String, MobileMessagingError>] = []
            for await result in group { results.append(result) }
            return results
        }
        #expect(results.count == 3)
        #expect(results.allSatisfy { (try? $0.get()) == "reg-1" })
        #expect(state.removeWaiter(ids[0]) == nil, "a resumed waiter is gone")
    }

    @Test func resetStopsTheAttemptAndForgetsTheFailures() {
        var state = RegistrationState()
        state.begin { _ in Self.idle() }
        state.finish(succeeded: false)
        state.begin { _ in Self.idle() }
        state.reset(.noRegistration("wiped"))
        #expect(!state.isRunning)
        #expect(state.failures == 0)
    }
}
