import Testing

@testable import MMCoreEngine

@Suite struct CallLaneTests {
    actor Log {
        var entries: [Int] = []
        func append(_ value: Int) { entries.append(value) }
    }

    @Test func jobsRunOneAtATimeInAdmissionOrderWhateverTheirOutcome() async throws {
        var lane = CallLane()
        let log = Log()
        var tasks: [Task<Int, any Error>] = []
        for index in 0..<100 {
            tasks.append(
                lane.admit {
                    // Earlier jobs take longer: a lane that let them overlap would reorder the log.
                    if index % 3 == 0 { try? await Task.sleep(for: .milliseconds(1)) }
                    await log.append(index)
                    if index % 10 == 0 { throw CancellationError() }
                    return index
                })
        }
        for (index, task) in tasks.enumerated() where index % 10 != 0 {
            #expect(try await task.value == index)
        }
        await lane.drained()
        #expect(await log.entries == Array(0..<100))
    }
}
