//! A photo as it comes from a phone, made safe to keep: only JPEG, PNG or WebP (by the
//! bytes, never the name), sizes checked before anything is decoded, turned upright by
//! its EXIF orientation and re-encoded as a JPEG with no metadata at all (no EXIF: the
//! position goes with the action as a field, not hidden in the file), with a thumbnail.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};
use protocol::ErrorCode;
use sha2::{Digest, Sha256};

/// The longest side kept: a phone's 4,000-pixel frame is more than a wall or a review
/// needs, and four times the bytes.
const KEEP_SIDE: u32 = 2048;
/// The thumbnail's longest side (the wall's ticket panel, the phone's list).
const THUMB_SIDE: u32 = 320;
const QUALITY: u8 = 85;
const THUMB_QUALITY: u8 = 75;

/// A photo ready to store: its id (the SHA-256 of `jpeg`), the JPEG and its thumbnail.
#[derive(Debug)]
pub struct Ingested {
    pub id: String,
    pub jpeg: Vec<u8>,
    pub thumb: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Why a photo was refused: a code (PROTOCOL.md) and words.
#[derive(Debug)]
pub struct Refused(pub ErrorCode, pub String);

/// Check, decode and re-encode `bytes`; `max_pixels` caps width x height as declared.
pub fn ingest(bytes: &[u8], max_pixels: u64) -> Result<Ingested, Refused> {
    let format = image::guess_format(bytes).map_err(|_| {
        Refused(
            ErrorCode::UnsupportedImage,
            "not a JPEG, PNG or WebP image (by its bytes)".into(),
        )
    })?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP
    ) {
        return Err(Refused(
            ErrorCode::UnsupportedImage,
            format!("a {format:?} image: send JPEG, PNG or WebP"),
        ));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    // What decoding may allocate: the declared frame at 4 bytes a pixel, and a margin.
    limits.max_alloc = Some(max_pixels.saturating_mul(4).saturating_add(64 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(refusal)?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > max_pixels || w == 0 || h == 0 {
        return Err(Refused(
            ErrorCode::ImageTooLarge,
            format!("{w} x {h} pixels: at most {max_pixels} pixels"),
        ));
    }
    let orientation = decoder.orientation().ok();
    let mut img = DynamicImage::from_decoder(decoder).map_err(refusal)?;
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    if img.width() > KEEP_SIDE || img.height() > KEEP_SIDE {
        img = img.resize(KEEP_SIDE, KEEP_SIDE, image::imageops::FilterType::Triangle);
    }
    let jpeg = encode(&img, QUALITY)?;
    let thumb = encode(&img.thumbnail(THUMB_SIDE, THUMB_SIDE), THUMB_QUALITY)?;
    Ok(Ingested {
        id: hex(&Sha256::digest(&jpeg)),
        width: img.width(),
        height: img.height(),
        jpeg,
        thumb,
    })
}

fn encode(img: &DynamicImage, quality: u8) -> Result<Vec<u8>, Refused> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&img.to_rgb8())
        .map_err(refusal)?;
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn refusal(e: ImageError) -> Refused {
    match e {
        ImageError::Limits(l) => Refused(
            ErrorCode::ImageTooLarge,
            format!("over the gateway's decoding limits: {l}"),
        ),
        ImageError::Unsupported(u) => Refused(ErrorCode::UnsupportedImage, u.to_string()),
        other => Refused(
            ErrorCode::BadImage,
            format!("the image does not decode: {other}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&img)
            .unwrap();
        out
    }

    #[test]
    fn a_photo_is_kept_as_a_smaller_jpeg_under_its_hash() {
        let p = ingest(&jpeg(3000, 1500), 50_000_000).unwrap();
        assert_eq!((p.width, p.height), (2048, 1024));
        assert_eq!(p.id.len(), 64);
        assert_eq!(p.id, hex(&Sha256::digest(&p.jpeg)));
        assert!(p.thumb.len() < p.jpeg.len());
        // The same bytes again: the same id (an upload sent twice is stored once).
        assert_eq!(ingest(&jpeg(3000, 1500), 50_000_000).unwrap().id, p.id);
    }

    #[test]
    fn anything_else_is_refused_with_its_code() {
        let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n";
        assert_eq!(
            ingest(pdf, 1000).unwrap_err().0,
            ErrorCode::UnsupportedImage
        );
        let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
        assert_eq!(
            ingest(gif, 1000).unwrap_err().0,
            ErrorCode::UnsupportedImage
        );
        let mut cut = jpeg(64, 64);
        cut.truncate(300);
        assert_eq!(ingest(&cut, 1_000_000).unwrap_err().0, ErrorCode::BadImage);
        assert_eq!(
            ingest(&jpeg(200, 200), 10_000).unwrap_err().0,
            ErrorCode::ImageTooLarge
        );
    }
}
