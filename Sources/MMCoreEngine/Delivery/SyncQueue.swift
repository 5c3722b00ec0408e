import JSON

/// The durable sync queue's rules: changes the server has not accepted yet, oldest
/// first, and which of them may be sent.
///
/// A pure value. ``LocalState`` persists ``changes`` and ``SyncDelivery`` does the
/// sending; this type decides merging (last write per field wins,
/// never across a depersonalize), what is next, and which `saveUser` changes wait for a
/// new token (kept in memory only: a new process tries them again).
struct SyncQueue: Sendable, Equatable {
    private(set) var changes: [PendingChange]
    /// `saveUser` changes refused for their token: not retried before a new token.
    private(set) var awaitingToken: Set<String> = []
    /// Why the last of them was refused (the code of the `authenticationError` when
    /// depersonalize deletes them).
    private(set) var lastTokenRefusal: ErrorCode?

    /// Ids of entries this version keeps in the file but does not deliver.
    private let reservedIDs: Set<String>

    init(_ changes: [PendingChange] = [], reservedIDs: Set<String> = []) {
        self.changes = changes
        self.reservedIDs = reservedIDs
    }

    var isEmpty: Bool { changes.isEmpty }

    // MARK: Adding

    /// Keeps a change: merged into the last queued change of the same kind for `own`
    /// when nothing separates them (inbox marks: into the last entry, when it holds
    /// marks for the same person), else appended with `attempts` 1.
    mutating func enqueue(_ kind: PendingChange.Kind, own: String, body: JSONObject?, now: Double, nextAttemptAt: Double) {
        if kind == .inboxSeen, let body, let last = changes.indices.last, let merged = InboxSeenMarks.merged(body, into: changes[last]) {
            changes[last].body = merged
            return
        }
        if let body, let index = mergeTarget(kind, own: own),
            let merged = PendingChange.mergedBody(changes[index].body ?? JSONObject(), body)
        {
            changes[index].body = merged
            return
        }
        changes.append(
            PendingChange(
                id: nextID(), kind: kind, pushRegistrationId: own, body: body, createdAt: now, attempts: 1, nextAttemptAt: nextAttemptAt))
    }

    /// The entry a new change of `kind` merges into: the last of its kind for `own`, unless
    /// a depersonalize was queued after it (a user change must not cross a person).
    func mergeTarget(_ kind: PendingChange.Kind, own: String) -> Int? {
        switch kind {
        case .depersonalize, .inboxSeen:
            // Inbox marks merge only with the entry right before them (see `enqueue`).
            return nil
        case .saveInstallation:
            return changes.lastIndex { $0.kind == .saveInstallation && $0.pushRegistrationId == own }
        case .saveUser:
            guard let index = changes.lastIndex(where: \.kind.isUserSide),
                changes[index].kind == .saveUser, changes[index].pushRegistrationId == own
            else { return nil }
            return index
        }
    }

    private func nextID() -> String {
        let used = Set(changes.map(\.id)).union(reservedIDs)
        var candidate = changes.count + 1
        while used.contains(String(candidate)) { candidate += 1 }
        return String(candidate)
    }

    // MARK: Choosing

    /// The oldest change of `kinds` not in `skipped`.
    func next(of kinds: Set<PendingChange.Kind>, skipping skipped: Set<String>) -> PendingChange? {
        changes.first { kinds.contains($0.kind) && !skipped.contains($0.id) }
    }

    /// A `saveUser` waiting for a new token (or for the auth pause to end).
    func isTokenBlocked(_ change: PendingChange, paused: Bool) -> Bool {
        change.kind == .saveUser && (paused || awaitingToken.contains(change.id))
    }

    func hasDeliverableWork(paused: Bool) -> Bool {
        changes.contains { !isTokenBlocked($0, paused: paused) }
    }

    /// Whether a depersonalize is queued after `change`.
    func depersonalizeFollows(_ change: PendingChange) -> Bool {
        guard let index = changes.firstIndex(where: { $0.id == change.id }) else { return false }
        return changes[(index + 1)...].contains { $0.kind == .depersonalize }
    }

    /// The kind of the last queued change that concerns this installation's person.
    var lastUserSideKind: PendingChange.Kind? {
        changes.last(where: \.kind.isUserSide)?.kind
    }

    /// The queued `saveUser` bodies a local read applies: those after the last queued
    /// depersonalize (the local user was forgotten when it was queued).
    var userBodiesForLocalRead: [JSONObject] {
        guard !changes.isEmpty else { return [] }
        let start = (changes.lastIndex { $0.kind == .depersonalize }).map { $0 + 1 } ?? 0
        return changes[start...].compactMap { $0.kind == .saveUser ? $0.body : nil }
    }

    /// The queued `saveInstallation` bodies for `own`.
    func installationBodies(for own: String) -> [JSONObject] {
        changes.compactMap { $0.kind == .saveInstallation && $0.pushRegistrationId == own ? $0.body : nil }
    }

    // MARK: Outcomes

    mutating func remove(_ id: String) {
        changes.removeAll { $0.id == id }
        awaitingToken.remove(id)
    }

    /// Counts a failed attempt; returns the attempts so far.
    mutating func noteFailedAttempt(_ id: String, nextAttemptAt: (Int) -> Double) {
        guard let index = changes.firstIndex(where: { $0.id == id }) else { return }
        changes[index].attempts += 1
        changes[index].nextAttemptAt = nextAttemptAt(changes[index].attempts)
    }

    mutating func markAwaitingToken(_ id: String, refusedWith code: ErrorCode) {
        awaitingToken.insert(id)
        lastTokenRefusal = code
    }

    /// A new token: every change that waited for one may be tried again.
    mutating func tokenArrived() { awaitingToken.removeAll() }

    /// Removes the `saveUser` changes waiting for a token (`depersonalize` deletes them:
    /// they belong to the person leaving); returns how many.
    mutating func dropTokenBlocked(paused: Bool, only ids: Set<String>? = nil) -> Int {
        let blocked = Set(changes.filter { isTokenBlocked($0, paused: paused) && (ids?.contains($0.id) ?? true) }.map(\.id))
        changes.removeAll { blocked.contains($0.id) }
        awaitingToken.subtract(blocked)
        return blocked.count
    }

    /// After a direct `saveUser` succeeded: fields it set are newer than the same fields
    /// in a queued change still waiting for a token, so those are taken out of it (last
    /// write wins even when the older change is delivered later). Returns whether any was.
    mutating func supersedeTokenBlockedFields(with body: JSONObject) -> Bool {
        var changed = false
        for index in changes.indices.reversed() where changes[index].kind == .saveUser && awaitingToken.contains(changes[index].id) {
            var remaining = JSONObject()
            for member in changes[index].body ?? JSONObject() {
                if member.key == "customAttributes", case .object(let old) = member.value, case .object(let new)? = body[member.key] {
                    let left = JSONObject(old.filter { new[$0.key] == nil }.map { ($0.key, $0.value) })
                    if !left.isEmpty { remaining[member.key] = .object(left) }
                } else if body[member.key] == nil {
                    remaining[member.key] = member.value
                }
            }
            changed = true
            if remaining.isEmpty {
                awaitingToken.remove(changes[index].id)
                changes.remove(at: index)
            } else {
                changes[index].body = remaining
            }
        }
        return changed
    }

    mutating func removeAll() {
        changes.removeAll()
        awaitingToken.removeAll()
    }
}
