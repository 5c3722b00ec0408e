/// The one place a storage failure becomes an HTTP answer with the Mobile API's error shape.
extension ServiceError {
    init(_ error: StoreError) {
        self =
            switch error {
            case .applicationNotFound(let code): .applicationNotFound(code)
            case .applicationExists(let code): .applicationExists(code)
            case .keyNotFound(let keyId): .keyNotFound(keyId)
            case .unknownApplicationCode: .invalidApplicationCode
            case .installationNotFound(let pushRegId): .noRegistration(pushRegId)
            case .installationOfAnotherPerson(let pushRegId): .installationAccessForbidden(pushRegId)
            case .personNotFound(let externalUserId): .personNotFound(externalUserId)
            case .identityTaken: .userMergeInterrupted
            case .limitExceeded(let what): .requestFormatInvalid(what)
            case .subjectMismatch: .accessTokenSubjectMismatch
            case .externalUserIdChangeForbidden: .externalUserIdChangeForbidden
            case .personalizeMergeForbidden: .personalizeMergeForbidden
            case .ambiguousPersonalizeCandidates: .ambiguousPersonalizeCandidates
            case .personalizationImpossible: .personalizationImpossible
            case .eventDefinitionNotFound(let definitionId): .eventDefinitionNotFound(definitionId)
            case .eventDefinitionExists(let definitionId): .eventDefinitionExists(definitionId)
            case .eventRejected(let problem): .eventRejected(problem)
            case .inboxMessageExists(let messageId): .inboxMessageExists(messageId)
            case .inconsistent: .internalError
            }
    }
}
