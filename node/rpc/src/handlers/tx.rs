//! Transactions: submit, validate without submitting, status and receipt.

use super::{call, decode_hex, parse_hash};
use crate::errors::{codes, ApiError, ErrorBody, ErrorKind};
use crate::model::{RawSignedTransaction, SubmitTxRequest, SubmitTxResponse, TxInfo, ValidateTxResponse};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use purse_types::tx::MAX_TX_BYTES;
use purse_types::{CodecError, SignedTransaction};

/// How the body of `POST /tx` is encoded.
enum BodyFormat {
    Json,
    Raw,
}

fn body_format(headers: &HeaderMap) -> Result<BodyFormat, ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(BodyFormat::Json);
    };
    let essence = value.to_str().unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => Ok(BodyFormat::Json),
        "application/octet-stream" => Ok(BodyFormat::Raw),
        e if e.ends_with("+json") => Ok(BodyFormat::Json),
        other => Err(ApiError::new(
            ErrorKind::UnsupportedMediaType,
            codes::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "content type {other:?} is not accepted: use application/json or application/octet-stream"
            ),
        )),
    }
}

/// Maps a body-buffering failure: over the limit → 413, anything else → 400.
pub(crate) fn body_rejection(r: BytesRejection) -> ApiError {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            ErrorKind::PayloadTooLarge,
            codes::BODY_TOO_LARGE,
            "request body exceeds the size limit",
        )
    } else {
        ApiError::bad_request(codes::BAD_REQUEST, r.body_text())
    }
}

fn tx_too_large(len: usize) -> ApiError {
    ApiError::new(
        ErrorKind::PayloadTooLarge,
        codes::TX_TOO_LARGE,
        format!("transaction is {len} bytes, the limit is {MAX_TX_BYTES}"),
    )
}

/// Decodes a `SignedTransaction` from a JSON `{"tx":"<hex>"}` or raw borsh body.
pub(crate) fn decode_tx_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<SignedTransaction, ApiError> {
    let format = body_format(headers)?;
    let body = body.map_err(body_rejection)?;
    let bytes = match format {
        BodyFormat::Raw => body.to_vec(),
        BodyFormat::Json => {
            let req: SubmitTxRequest = serde_json::from_slice(&body)
                .map_err(|e| ApiError::bad_request(codes::BAD_JSON, format!("invalid JSON body: {e}")))?;
            if req.tx.len() > 2 * MAX_TX_BYTES {
                return Err(tx_too_large(req.tx.len() / 2));
            }
            decode_hex(&req.tx, "tx")?
        }
    };
    SignedTransaction::decode(&bytes).map_err(|e| match e {
        CodecError::TooLarge { len, .. } => tx_too_large(len),
        CodecError::Invalid { reason, .. } => {
            ApiError::bad_request(codes::BAD_ENCODING, format!("not a borsh SignedTransaction: {reason}"))
        }
    })
}

/// Submits a signed transaction to the mempool. Returns its id and whether it is pending or queued behind a
/// nonce gap; a rejection carries the admission reason as its code (HTTP 422), a full pool is 429.
#[utoipa::path(post, path = "/tx", tag = "transactions",
    request_body(description = "The borsh-encoded SignedTransaction, as hex in JSON or as raw bytes",
        content((SubmitTxRequest = "application/json"), (RawSignedTransaction = "application/octet-stream"))),
    responses(
        (status = 200, description = "Admitted", body = SubmitTxResponse),
        (status = 400, description = "Malformed JSON, hex or borsh (`bad_json`, `bad_hex`, `bad_encoding`)", body = ErrorBody),
        (status = 413, description = "Body or transaction too large (`body_too_large`, `tx_too_large`)", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
        (status = 422, description = "Rejected by admission; `code` is the mempool reason, e.g. `insufficient_available`", body = ErrorBody),
        (status = 429, description = "Mempool full (`pool_full`, `sender_full`, `future_queue_full`)", body = ErrorBody),
        (status = 503, description = "Node unavailable", body = ErrorBody),
    ))]
pub(crate) async fn submit_tx(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<SubmitTxResponse>, ApiError> {
    // Decoding checks every public key in the transaction (point decompression): on a blocking thread, like
    // the admission, not on the runtime's workers that networking shares.
    let (id, admission) = call(&state, move |api| {
        let tx = decode_tx_body(&headers, body)?;
        let id = tx.id();
        api.submit_tx(tx).map(|admission| (id, admission))
    })
    .await?;
    Ok(Json(SubmitTxResponse::new(id, admission)))
}

/// Judges a transaction against committed state plus pending transactions without submitting it (issue 8's
/// "output result"). Always 200 when the node could judge; `result` is `valid`, `queued` or `invalid`.
#[utoipa::path(post, path = "/tx/validate", tag = "transactions",
    request_body(description = "The borsh-encoded SignedTransaction, as hex in JSON or as raw bytes",
        content((SubmitTxRequest = "application/json"), (RawSignedTransaction = "application/octet-stream"))),
    responses(
        (status = 200, description = "The verdict", body = ValidateTxResponse),
        (status = 400, description = "Malformed JSON, hex or borsh", body = ErrorBody),
        (status = 413, description = "Body or transaction too large", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
        (status = 503, description = "Node unavailable", body = ErrorBody),
    ))]
pub(crate) async fn validate_tx(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ValidateTxResponse>, ApiError> {
    // Decoded on a blocking thread, as in `submit_tx`.
    let (id, verdict) = call(&state, move |api| {
        let tx = decode_tx_body(&headers, body)?;
        let id = tx.id();
        api.validate_tx(tx).map(|verdict| (id, verdict))
    })
    .await?;
    Ok(Json(ValidateTxResponse::new(id, verdict)))
}

/// A transaction's status: `pending`, `queued`, or `committed` with height, index and receipt.
#[utoipa::path(get, path = "/tx/{id}", tag = "transactions",
    params(("id" = String, Path, description = "Transaction id, 64 hex characters")),
    responses(
        (status = 200, description = "Known transaction", body = TxInfo),
        (status = 400, description = "Malformed id (`bad_hash`)", body = ErrorBody),
        (status = 404, description = "Neither pending nor committed (`tx_not_found`)", body = ErrorBody),
    ))]
pub(crate) async fn get_tx(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TxInfo>, ApiError> {
    let id = parse_hash(&id, "transaction id")?;
    call(&state, move |api| api.tx(&id))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(codes::TX_NOT_FOUND, format!("transaction {id} is not known")))
}
