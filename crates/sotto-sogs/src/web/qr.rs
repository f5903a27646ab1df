//! The invite image: a join URL as a QR code in a PNG, drawn as PySOGS draws it
//! (`qrcode.make(url)`, resized to 512×512 with nearest-neighbour sampling).

use qrcode::{Color, QrCode};

/// Width and height of the invite image, pixels (PySOGS `serve_invite_qr`).
pub const INVITE_SIZE: u32 = 512;
/// Light modules around the code, in modules: the QR standard's quiet zone, which is also the
/// Python `qrcode` package's default `border`.
const QUIET_ZONE: usize = 4;
/// Grey levels of the 8-bit greyscale image.
const DARK: u8 = 0;
const LIGHT: u8 = 255;

/// Why an invite image could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InviteError {
    /// The URL does not fit in a QR code (only a very long `[net] base_url` can do that).
    #[error("join URL of {len} bytes does not fit in a QR code: {source}")]
    TooLong {
        /// The URL's length.
        len: usize,
        /// What the encoder said.
        #[source]
        source: qrcode::types::QrError,
    },
    /// The PNG encoder failed.
    #[error("PNG encoding failed: {0}")]
    Png(#[from] png::EncodingError),
}

/// `url` as a QR code (error correction M, as `qrcode.make`), in a square 8-bit greyscale PNG
/// of [`INVITE_SIZE`] pixels.
pub fn invite_png(url: &str) -> Result<Vec<u8>, InviteError> {
    let code = QrCode::new(url.as_bytes()).map_err(|source| InviteError::TooLong {
        len: url.len(),
        source,
    })?;
    let pixels = render(code.width(), &code.to_colors());
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, INVITE_SIZE, INVITE_SIZE);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(out)
}

/// The modules (`width`², row by row) with their quiet zone, scaled to the image size: each
/// pixel takes the module under its centre.
fn render(width: usize, modules: &[Color]) -> Vec<u8> {
    let side = INVITE_SIZE as usize;
    let total = width + 2 * QUIET_ZONE;
    // Module coordinate (including the quiet zone) of each pixel column/row.
    let index: Vec<usize> = (0..side)
        .map(|p| (2 * p + 1) * total / (2 * side))
        .collect();
    let module = |x: usize, y: usize| -> u8 {
        let inside = |v: usize| v.checked_sub(QUIET_ZONE).filter(|&v| v < width);
        match (inside(x), inside(y)) {
            (Some(x), Some(y)) => match modules.get(y * width + x) {
                Some(Color::Dark) => DARK,
                _ => LIGHT,
            },
            _ => LIGHT,
        }
    };
    let mut pixels = Vec::with_capacity(side * side);
    for &y in &index {
        pixels.extend(index.iter().map(|&x| module(x, y)));
    }
    pixels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_zone_is_light_and_the_finder_pattern_dark() {
        let code = QrCode::new(b"http://example.net/r?public_key=00").expect("encodes");
        let width = code.width();
        let pixels = render(width, &code.to_colors());
        assert_eq!(pixels.len(), (INVITE_SIZE * INVITE_SIZE) as usize);
        let side = INVITE_SIZE as usize;
        let px = |x: usize, y: usize| pixels.get(y * side + x).copied();
        // The top-left corner lies in the quiet zone.
        assert_eq!(px(0, 0), Some(LIGHT));
        // The centre of the first module of the code (the finder pattern's corner) is dark.
        let total = width + 2 * QUIET_ZONE;
        let centre = (2 * QUIET_ZONE + 1) * side / (2 * total);
        assert_eq!(px(centre, centre), Some(DARK));
    }

    #[test]
    fn an_oversized_url_is_an_error_not_a_panic() {
        let url = format!("http://{}/r", "x".repeat(5_000));
        match invite_png(&url) {
            Err(InviteError::TooLong { len, .. }) => assert_eq!(len, url.len()),
            other => panic!("expected TooLong, got {other:?}"),
        }
    }
}
