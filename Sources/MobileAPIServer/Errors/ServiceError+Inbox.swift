// MARK: - Inbox (admin)

extension ServiceError {
    static func inboxMessageExists(_ messageId: String) -> ServiceError {
        ServiceError(.conflict, "INBOX_MESSAGE_EXISTS", "A message \(messageId) already exists")
    }
}
