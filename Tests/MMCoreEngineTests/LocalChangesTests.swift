import JSON
import Testing

@testable import MMCoreEngine

@Suite struct LocalChangesTests {
    @Test @EngineActor func admittedChangesApplyInOrderUntilRemoved() {
        let changes = LocalChanges()
        let first = changes.add(.user(["firstName": "A", "customAttributes": ["x": 1]]))
        _ = changes.add(.installation(["language": "de"]))
        #expect(changes.applyingUserChanges(to: ["lastName": "L"]) == ["lastName": "L", "firstName": "A", "customAttributes": ["x": 1]])
        let removal = changes.add(.userRemoved)
        #expect(changes.applyingUserChanges(to: ["lastName": "L"]) == nil)
        _ = changes.add(.user(["lastName": "M"]))
        #expect(changes.applyingUserChanges(to: ["lastName": "L"]) == ["lastName": "M"])
        changes.remove(removal)
        changes.remove(first)
        #expect(changes.applyingUserChanges(to: ["lastName": "L"]) == ["lastName": "M"])
        #expect(changes.applyingInstallationChanges(to: nil) == ["language": "de"])
    }
}
