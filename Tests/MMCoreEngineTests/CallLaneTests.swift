import Testing

@testable import MMCoreEngine

@Suite struct CallLaneTests {
    actor Log {
        var entries: [Int] = []
        func append(_ value: Int) { entries.append(value) }
    }

    @Test @EngineActor func jobsRunOneAtATimeInAdmissionOrderWhateverTheirOutcome() async throws {
        let lane = CallLane()
        let log = Log()
        var jobs: [@EngineActor @Sendable () async throws -> Int] = []
        for index in 0..<100 {
            jobs.append(
                lane.admit("job") {
                    // Earlier jobs take longer: a lane that let them overlap would reorder the log.
                    if index % 3 == 0 { try? await Task.sleep(for: .milliseconds(1)) }
                    await log.append(index)
                    if index % 10 == 0 { throw CancellationError() }
                    return index
                })
        }
        // Started last first: the order is the one of admission, not of the tasks.
        let tasks = jobs.reversed().map { job in Task { try await job() } }.reversed()
        for (index, task) in tasks.enumerated() where index % 10 != 0 {
            #expect(try await task.value == index)
        }
        await lane.drained()
        #expect(await log.entries == Array(0..<100))
    }

    @Test @EngineActor func aJobAdmittedBeforeANewGenerationIsNotRun() async throws {
        let lane = CallLane()
        let log = Log()
        let stale = lane.admit("saveUser") { await log.append(1) }
        lane.startGeneration()
        let current = lane.admit("fetchUser") { await log.append(2) }
        await #expect(throws: MobileMessagingError.self) { try await stale() }
        try await current()
        #expect(await log.entries == [2])
    }
}
