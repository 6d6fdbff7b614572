//! Why a command is refused: a stable code and a message that says what to fix. The rules
//! produce these; the gateway sends them as `command_result` refusals or HTTP errors.

use protocol::ErrorCode;

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
}

impl Refusal {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
        }
    }
}
