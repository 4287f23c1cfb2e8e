//! The error vocabulary shared by the server, the REST API (RFC 9457 `code`) and the CLI. Codes are
//! stable snake_case strings: integrators and scripts match on them, so a code is never renamed.

use serde::Serialize;

/// A stable error code. The HTTP status is a property of the code, decided once here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request could not be parsed (bad JSON, bad query, wrong content type).
    MalformedRequest,
    /// A field's value breaks a rule (too long, bad syntax, out of range).
    InvalidField,
    /// No credentials, or credentials not accepted.
    Unauthenticated,
    /// Authenticated, but not allowed to do this within the tenant.
    Forbidden,
    /// Admins and operators must enrol MFA before any admin page or admin API call.
    MfaEnrolmentRequired,
    /// The action needs a fresh sign-in (step-up within the last 10 minutes).
    StepUpRequired,
    /// The object does not exist — or belongs to another tenant (never told apart).
    NotFound,
    /// The path exists but not with this method.
    MethodNotAllowed,
    /// The change conflicts with the current state (e.g. already suspended).
    Conflict,
    /// The object changed since the caller read it (`If-Match`).
    StaleVersion,
    /// The request body exceeds the limit.
    PayloadTooLarge,
    /// The content type is not one this endpoint accepts.
    UnsupportedMediaType,
    /// The request is well-formed but breaks a business rule (e.g. a contract limit).
    RuleViolation,
    /// Too many requests; retry after the time given.
    RateLimited,
    /// The request took too long and was abandoned.
    Timeout,
    /// The organisation is suspended or terminated and cannot be changed.
    TenantInactive,
    /// Something failed inside the server; the request id finds it in the logs.
    Internal,
    /// The database or another dependency is unavailable.
    Unavailable,
}

impl ErrorCode {
    /// The stable snake_case name used in `problem+json` and CLI output.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedRequest => "malformed_request",
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::MfaEnrolmentRequired => "mfa_enrolment_required",
            ErrorCode::StepUpRequired => "step_up_required",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::StaleVersion => "stale_version",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::RuleViolation => "rule_violation",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Timeout => "timeout",
            ErrorCode::TenantInactive => "tenant_inactive",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
        }
    }

    /// The HTTP status that answers this code (api.md: 400/401/403/404/409/412/413/422/429).
    pub const fn http_status(self) -> u16 {
        match self {
            ErrorCode::MalformedRequest => 400,
            ErrorCode::InvalidField => 422,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::MfaEnrolmentRequired => 403,
            ErrorCode::StepUpRequired => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Conflict => 409,
            ErrorCode::StaleVersion => 412,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::RuleViolation => 422,
            ErrorCode::RateLimited => 429,
            ErrorCode::Timeout => 408,
            ErrorCode::TenantInactive => 409,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
        }
    }

    /// A short human title for the code (`problem+json` `title`).
    pub const fn title(self) -> &'static str {
        match self {
            ErrorCode::MalformedRequest => "Malformed request",
            ErrorCode::InvalidField => "Invalid field",
            ErrorCode::Unauthenticated => "Authentication required",
            ErrorCode::Forbidden => "Not allowed",
            ErrorCode::MfaEnrolmentRequired => "MFA enrolment required",
            ErrorCode::StepUpRequired => "Re-authentication required",
            ErrorCode::NotFound => "Not found",
            ErrorCode::MethodNotAllowed => "Method not allowed",
            ErrorCode::Conflict => "Conflict",
            ErrorCode::StaleVersion => "Stale version",
            ErrorCode::PayloadTooLarge => "Payload too large",
            ErrorCode::UnsupportedMediaType => "Unsupported media type",
            ErrorCode::RuleViolation => "Rule violation",
            ErrorCode::RateLimited => "Too many requests",
            ErrorCode::Timeout => "Request timeout",
            ErrorCode::TenantInactive => "Organisation not active",
            ErrorCode::Internal => "Internal error",
            ErrorCode::Unavailable => "Service unavailable",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule broken by a request: the code, a message that tells the user what to do next, and the
/// field at fault when there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DomainError {
    /// The stable code.
    pub code: ErrorCode,
    /// What went wrong and what to do about it.
    pub message: String,
    /// The input field at fault (snake_case, as in the API), if any.
    pub field: Option<&'static str>,
}

impl DomainError {
    /// An error not tied to one field.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
        }
    }

    /// A field's value breaks a rule.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::InvalidField,
            message: message.into(),
            field: Some(field),
        }
    }

    /// The same error, naming the input field at fault.
    pub fn with_field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }

    /// The object is unknown (or another tenant's).
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_stable_names() {
        for code in [
            ErrorCode::MalformedRequest,
            ErrorCode::NotFound,
            ErrorCode::TenantInactive,
            ErrorCode::UnsupportedMediaType,
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn server_errors_are_only_internal_and_unavailable() {
        assert_eq!(ErrorCode::Internal.http_status(), 500);
        assert_eq!(ErrorCode::Unavailable.http_status(), 503);
        assert_eq!(ErrorCode::InvalidField.http_status(), 422);
    }
}
