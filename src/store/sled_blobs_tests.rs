use super::*;

/// Encodes like sled's `Serialize for u64`.
fn varint(out: &mut Vec<u8>, v: u64) {
    if v <= 240 {
        out.push(u8::try_from(v).unwrap());
    } else if v <= 2287 {
        out.push(u8::try_from((v - 240) / 256 + 241).unwrap());
        out.push(u8::try_from((v - 240) % 256).unwrap());
    } else if v <= 67823 {
        out.push(249);
        out.push(u8::try_from((v - 2288) / 256).unwrap());
        out.push(u8::try_from((v - 2288) % 256).unwrap());
    } else {
        let n = (8 - v.leading_zeros() as usize / 8).max(3);
        out.push(u8::try_from(247 + n).unwrap());
        out.extend_from_slice(&v.to_le_bytes()[..n]);
    }
}

fn ptr(out: &mut Vec<u8>, offset: u64, blob: Option<i64>) {
    match blob {
        None => {
            out.push(0);
            varint(out, offset);
        }
        Some(b) => {
            out.push(1);
            varint(out, offset);
            out.extend_from_slice(&b.to_le_bytes());
        }
    }
}

fn file(stable: i64, pages: &[Vec<(i64, u64, Option<i64>)>]) -> Vec<u8> {
    let mut body = (stable + 1).to_le_bytes().to_vec();
    varint(&mut body, 1 << 20);
    for page in pages {
        body.push(u8::try_from(page.len()).unwrap());
        for &(lsn, offset, blob) in page {
            body.extend_from_slice(&lsn.to_le_bytes());
            ptr(&mut body, offset, blob);
            varint(&mut body, 70_000);
        }
    }
    body.push(0); // a free page
    body.extend_from_slice(&5i64.to_le_bytes());
    ptr(&mut body, 9, None);
    let mut f = body.clone();
    f.extend_from_slice(&(body.len() as u64).to_le_bytes());
    f.extend_from_slice(&crc32(&[&body]).to_le_bytes());
    f
}

#[test]
fn snapshot_yields_every_blob_of_bases_and_fragments() {
    let pages = vec![
        vec![(10, 300, None)],
        vec![(20, 2000, Some(4_000_000)), (30, 70_000, Some(5_000_000))],
        vec![
            (40, 1 << 40, Some(123)),
            (50, 7, None),
            (60, 8, Some(i64::MAX - 1)),
        ],
    ];
    let (stable, blobs) = parse(&file(9_000_000, &pages)).unwrap();
    assert_eq!(stable, 9_000_000);
    assert_eq!(
        blobs.into_iter().collect::<Vec<_>>(),
        vec![123, 4_000_000, 5_000_000, i64::MAX - 1]
    );
}

#[test]
fn anything_unexpected_parses_to_nothing() {
    let good = file(100, &[vec![(20, 2000, Some(50))]]);
    assert!(parse(&good).is_some());
    let mut bad_crc = good.clone();
    bad_crc[3] ^= 1;
    assert!(parse(&bad_crc).is_none());
    assert!(parse(&good[..good.len() - 1]).is_none());
    assert!(parse(&[]).is_none());
    // a pointer tag sled does not write
    let mut body = 101i64.to_le_bytes().to_vec();
    body.extend_from_slice(&[0, 1]);
    body.extend_from_slice(&7i64.to_le_bytes());
    body.push(2);
    let mut f = body.clone();
    f.extend_from_slice(&(body.len() as u64).to_le_bytes());
    f.extend_from_slice(&crc32(&[&body]).to_le_bytes());
    assert!(parse(&f).is_none());
}

#[test]
fn sweep_deletes_only_old_unreferenced_blobs() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = dir.path().join("blobs");
    std::fs::create_dir(&blobs).unwrap();
    for name in ["50", "60", "70", "250", "notes"] {
        std::fs::write(blobs.join(name), b"x").unwrap();
    }
    std::fs::write(dir.path().join("snap.0000000000000064"), b"old, ignored").unwrap();
    std::fs::write(
        dir.path().join("snap.00000000000000C8"),
        file(200, &[vec![(20, 2000, Some(50)), (30, 9, Some(70))]]),
    )
    .unwrap();
    let s = sweep(dir.path()).unwrap();
    assert_eq!((s.files, s.skipped), (1, false));
    let mut left: Vec<_> = std::fs::read_dir(&blobs)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["250", "50", "70", "notes"]);
}

#[test]
fn sweep_keeps_everything_when_a_referenced_blob_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = dir.path().join("blobs");
    std::fs::create_dir(&blobs).unwrap();
    std::fs::write(blobs.join("60"), b"x").unwrap();
    std::fs::write(
        dir.path().join("snap.00000000000000C8"),
        file(200, &[vec![(20, 2000, Some(50))]]),
    )
    .unwrap();
    let s = sweep(dir.path()).unwrap();
    assert_eq!((s.files, s.skipped), (0, true));
    assert!(blobs.join("60").exists());
}
