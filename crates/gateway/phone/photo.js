// A photo from the camera or the gallery, made small on the phone before it is queued:
// upright, at most 1600 px on its longest side, JPEG, at most 1 MB (quality lowered, then
// the size, until it fits). Drawing it on a canvas also leaves its EXIF behind; the
// gateway strips it again whatever arrives.
'use strict';
const Photo = (() => {
  const MAX_SIDE = 1600;
  const MAX_BYTES = 1000 * 1000;

  function loadImg(file) {
    return new Promise((res, rej) => {
      const url = URL.createObjectURL(file);
      const img = new Image();
      img.onload = () => { URL.revokeObjectURL(url); res(img); };
      img.onerror = () => { URL.revokeObjectURL(url); rej(new Error('不是可读的图片 (not an image)')); };
      img.src = url;
    });
  }

  async function source(file) {
    if (window.createImageBitmap) {
      try { return await createImageBitmap(file, { imageOrientation: 'from-image' }); } catch (_) { /* fall back */ }
    }
    return loadImg(file);
  }

  function toBlob(canvas, q) {
    return new Promise((res) => canvas.toBlob(res, 'image/jpeg', q));
  }

  async function shrink(file) {
    const src = await source(file);
    const k = Math.min(1, MAX_SIDE / Math.max(src.width, src.height));
    let w = Math.max(1, Math.round(src.width * k));
    let h = Math.max(1, Math.round(src.height * k));
    let q = 0.82;
    for (let i = 0; i < 10; i++) {
      const c = document.createElement('canvas');
      c.width = w; c.height = h;
      c.getContext('2d').drawImage(src, 0, 0, w, h);
      const blob = await toBlob(c, q);
      if (blob && blob.size <= MAX_BYTES) return blob;
      if (q > 0.5) q -= 0.12; else { w = Math.round(w * 0.8); h = Math.round(h * 0.8); }
    }
    throw new Error('照片无法压缩到 1 MB 以内 (cannot fit 1 MB)');
  }

  return { shrink, MAX_BYTES };
})();
