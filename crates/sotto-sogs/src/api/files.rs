//! Room file routes (`sogs.md` §1.4): upload and download, stored on disk in PySOGS's layout
//! (`<uploads_dir>/<token>/<id>_<name>`).

use std::path::PathBuf;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::json;

use super::{
    find_room, int_segment, json, require_read, require_user, ApiError, ApiResult, AppState, Caller,
};
use crate::util;

/// Lifetime of an upload until a post attaches it (`upload_file(lifetime=3600.0)`).
const UNATTACHED_LIFETIME: f64 = 3600.0;

/// `POST /room/<token>/file`: raw body, name from `Content-Disposition`; 201 `{"id"}`.
pub(super) async fn upload(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let mut store = st.write().await;
    let room = find_room(&store, &token)?;
    let user = require_user(&caller)?;
    if !store.permissions(&room, Some(user))?.can_upload() {
        return Err(ApiError::forbidden());
    }
    if u64::try_from(body.len()).unwrap_or(u64::MAX) > st.config().file_max_size {
        return Err(ApiError::Werkzeug(StatusCode::PAYLOAD_TOO_LARGE));
    }
    let quota = crate::store::QuotaKind::Upload;
    super::quota::check(st.config(), &store, &room, user, quota, util::now())?;
    let id = save_upload(
        st.config(),
        &mut store,
        (room.id, &room.token),
        user.id,
        &headers,
        &body,
        Some(UNATTACHED_LIFETIME),
    )?;
    Ok(json(StatusCode::CREATED, json!({ "id": id })))
}

/// Store an upload to room `(id, token)` by `user_id`: its row, then its bytes in PySOGS's
/// layout (`uploads_dir/<room>/<id>_<name>`, the name from the last `Content-Disposition`,
/// cleaned), expiring `lifetime` seconds from now (never: `None`). A failed write leaves
/// neither the row nor a partial file. Returns the file id.
pub(crate) fn save_upload(
    config: &crate::config::Config,
    store: &mut crate::store::Store,
    (room_id, room_token): (i64, &str),
    user_id: i64,
    headers: &HeaderMap,
    body: &[u8],
    lifetime: Option<f64>,
) -> crate::Result<i64> {
    let filename = headers
        .get_all(header::CONTENT_DISPOSITION)
        .iter()
        .filter_map(|v| util::content_disposition_filename(&String::from_utf8_lossy(v.as_bytes())))
        .next_back()
        .map(|n| util::clean_filename(&n));
    let now = util::now();
    let id = store.insert_file(
        room_id,
        user_id,
        body.len(),
        now,
        lifetime.map(|l| now + l),
        filename.as_deref(),
    )?;
    let dir = config.uploads_dir.join(room_token);
    let path = dir.join(format!("{id}_{}", util::disk_filename(filename.as_deref())));
    let written = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, body));
    if let Err(source) = written {
        let _ = std::fs::remove_file(&path);
        store.delete_file_row(id)?;
        return Err(crate::Error::Io {
            what: "cannot write upload",
            path,
            source,
        });
    }
    store.set_file_path(id, &path.to_string_lossy())?;
    Ok(id)
}

/// `GET /room/<token>/file/<id>`.
pub(super) async fn download(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((token, id)): Path<(String, String)>,
) -> ApiResult {
    serve_file(&st, &caller, &token, &id)
}

/// `GET /room/<token>/file/<id>/<filename>` (the name is ignored).
pub(super) async fn download_named(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((token, id, _name)): Path<(String, String, String)>,
) -> ApiResult {
    serve_file(&st, &caller, &token, &id)
}

fn serve_file(st: &AppState, caller: &Caller, token: &str, id: &str) -> ApiResult {
    let (file, bytes) = {
        let store = st.reader();
        let room = find_room(&store, token)?;
        let id = int_segment(id)?;
        require_read(&store.permissions(&room, caller.user())?)?;
        let file = store
            .room_file(room.id, id, util::now())?
            .ok_or_else(ApiError::not_found)?;
        let path = PathBuf::from(&file.path);
        let bytes = std::fs::read(&path).map_err(|source| {
            ApiError::Internal(crate::Error::Io {
                what: "cannot read upload",
                path,
                source,
            })
        })?;
        (file, bytes)
    };
    let disposition = match &file.filename {
        Some(name) if !name.is_empty() => format!(
            "attachment; filename*=UTF-8''{}",
            util::percent_encode(name.as_bytes())
        ),
        _ => "attachment".to_owned(),
    };
    let mut resp: Response = (StatusCode::OK, Body::from(bytes)).into_response();
    let h = resp.headers_mut();
    let value = |s: String| HeaderValue::from_str(&s).map_err(|_| ApiError::bad_request());
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_DISPOSITION, value(disposition)?);
    h.insert(header::DATE, value(util::http_date(file.uploaded))?);
    if let Some(expiry) = file.expiry.filter(|&e| e != 0.0) {
        h.insert(header::EXPIRES, value(util::http_date(expiry))?);
    }
    Ok(resp)
}
