;; Binary sketches of embeddings, with 128-bit SIMD: sketch rows (the sign bits of projections), scan every row's
;; Hamming distance to one query sketch, and collect the rows at or below a cut-off. Source of
;; src/core/sketch-kernel.wasm.ts: `npm run build:wasm` compiles it (wabt) and embeds the bytes; sketch-rows.ts uses it.
;; Measured in research/sketch-search.ts (where it was written).
;;
;; Every function is pure over the memory: byte addresses in, results written to given addresses.
;; A sketch of B bits is B/8 bytes, bit b at byte b>>3, bit b&7 (little-endian 32-bit words, as Uint32Array).
(module
  (import "env" "memory" (memory 1))

  ;; sketchRows(proj, offsets, bits, dims, rows, count, out): for each of `count` rows of `dims` float32 at `rows`,
  ;; bit b of its sketch is set when dot(proj[b], row) > offsets[b] (proj: `bits` rows of `dims` float32; offsets:
  ;; `bits` float32, e.g. dot(proj[b], mean) to centre on a mean). Writes bits/8 bytes per row at `out`.
  ;; bits a multiple of 32, dims a multiple of 4.
  (func (export "sketchRows") (param $proj i32) (param $offsets i32) (param $bits i32) (param $dims i32)
      (param $rows i32) (param $count i32) (param $out i32)
    (local $rowEnd i32) (local $dimBytes i32) (local $b i32) (local $j i32) (local $p i32) (local $word i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $x v128) (local $s v128) (local $t v128)
    (local.set $dimBytes (i32.shl (local.get $dims) (i32.const 2)))
    (local.set $rowEnd (i32.add (local.get $rows) (i32.mul (local.get $count) (local.get $dimBytes))))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_u (local.get $rows) (local.get $rowEnd)))
        (local.set $b (i32.const 0))
        (local.set $word (i32.const 0))
        (local.set $p (local.get $proj))
        (loop $group
          ;; four projections p, p+dims, p+2dims, p+3dims against the row
          (local.set $a0 (v128.const i32x4 0 0 0 0))
          (local.set $a1 (v128.const i32x4 0 0 0 0))
          (local.set $a2 (v128.const i32x4 0 0 0 0))
          (local.set $a3 (v128.const i32x4 0 0 0 0))
          (local.set $j (i32.const 0))
          (loop $dim
            (local.set $x (v128.load (i32.add (local.get $rows) (local.get $j))))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $x)
              (v128.load (i32.add (local.get $p) (local.get $j))))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $x)
              (v128.load (i32.add (i32.add (local.get $p) (local.get $dimBytes)) (local.get $j))))))
            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $x)
              (v128.load (i32.add (i32.add (local.get $p) (i32.shl (local.get $dimBytes) (i32.const 1))) (local.get $j))))))
            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $x)
              (v128.load (i32.add (i32.add (local.get $p) (i32.mul (local.get $dimBytes) (i32.const 3))) (local.get $j))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br_if $dim (i32.lt_u (local.get $j) (local.get $dimBytes))))
          ;; [Σa0, Σa1, Σa2, Σa3]: pairwise sums of lanes, twice
          (local.set $s (f32x4.add
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a0) (local.get $a1))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a0) (local.get $a1))))
          (local.set $t (f32x4.add
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a2) (local.get $a3))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a2) (local.get $a3))))
          (local.set $s (f32x4.add
            (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $s) (local.get $t))
            (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $s) (local.get $t))))
          (local.set $word (i32.or (local.get $word)
            (i32.shl
              (i32x4.bitmask (f32x4.gt (local.get $s) (v128.load (i32.add (local.get $offsets) (i32.shl (local.get $b) (i32.const 2))))))
              (i32.and (local.get $b) (i32.const 31)))))
          (local.set $b (i32.add (local.get $b) (i32.const 4)))
          (local.set $p (i32.add (local.get $p) (i32.shl (local.get $dimBytes) (i32.const 2))))
          (if (i32.eqz (i32.and (local.get $b) (i32.const 31)))
            (then
              (i32.store (local.get $out) (local.get $word))
              (local.set $out (i32.add (local.get $out) (i32.const 4)))
              (local.set $word (i32.const 0))))
          (br_if $group (i32.lt_u (local.get $b) (local.get $bits))))
        (local.set $rows (i32.add (local.get $rows) (local.get $dimBytes)))
        (br $row))))

  ;; hammingScan(q, rows, count, chunks, out): for each of `count` sketches of `chunks` × 512 bits (64 bytes each,
  ;; 1 ≤ chunks ≤ 7 so byte lanes cannot overflow) at `rows`, its Hamming distance to the sketch at `q` as a u16 at
  ;; out[r]. (Counting the distances in this loop made the scan 1.7× slower than the two loops apart; see histogram.)
  (func (export "hammingScan") (param $q i32) (param $rows i32) (param $count i32) (param $chunks i32) (param $out i32)
    (local $end i32) (local $c i32) (local $qc i32) (local $h i32) (local $s v128) (local $w v128)
    (local $q0 v128) (local $q1 v128) (local $q2 v128) (local $q3 v128)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 1))))
    (if (i32.eq (local.get $chunks) (i32.const 1))
      (then
        ;; 512 bits: the query stays in registers
        (local.set $q0 (v128.load (local.get $q)))
        (local.set $q1 (v128.load offset=16 (local.get $q)))
        (local.set $q2 (v128.load offset=32 (local.get $q)))
        (local.set $q3 (v128.load offset=48 (local.get $q)))
        (block $done512
          (loop $row512
            (br_if $done512 (i32.ge_u (local.get $out) (local.get $end)))
            (local.set $s (i8x16.add
              (i8x16.add
                (i8x16.popcnt (v128.xor (local.get $q0) (v128.load (local.get $rows))))
                (i8x16.popcnt (v128.xor (local.get $q1) (v128.load offset=16 (local.get $rows)))))
              (i8x16.add
                (i8x16.popcnt (v128.xor (local.get $q2) (v128.load offset=32 (local.get $rows))))
                (i8x16.popcnt (v128.xor (local.get $q3) (v128.load offset=48 (local.get $rows)))))))
            (local.set $w (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u (local.get $s))))
            (local.set $w (i32x4.add (local.get $w) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $w) (local.get $w))))
            (local.set $h (i32.add (i32x4.extract_lane 0 (local.get $w)) (i32x4.extract_lane 1 (local.get $w))))
            (i32.store16 (local.get $out) (local.get $h))
            (local.set $rows (i32.add (local.get $rows) (i32.const 64)))
            (local.set $out (i32.add (local.get $out) (i32.const 2)))
            (br $row512))))
      (else
        (block $done
          (loop $row
            (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
            (local.set $s (v128.const i32x4 0 0 0 0))
            (local.set $c (local.get $chunks))
            (local.set $qc (local.get $q))
            (loop $chunk
              (local.set $s (i8x16.add (local.get $s) (i8x16.add
                (i8x16.add
                  (i8x16.popcnt (v128.xor (v128.load (local.get $qc)) (v128.load (local.get $rows))))
                  (i8x16.popcnt (v128.xor (v128.load offset=16 (local.get $qc)) (v128.load offset=16 (local.get $rows)))))
                (i8x16.add
                  (i8x16.popcnt (v128.xor (v128.load offset=32 (local.get $qc)) (v128.load offset=32 (local.get $rows))))
                  (i8x16.popcnt (v128.xor (v128.load offset=48 (local.get $qc)) (v128.load offset=48 (local.get $rows))))))))
              (local.set $qc (i32.add (local.get $qc) (i32.const 64)))
              (local.set $rows (i32.add (local.get $rows) (i32.const 64)))
              (local.set $c (i32.sub (local.get $c) (i32.const 1)))
              (br_if $chunk (local.get $c)))
            (local.set $w (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u (local.get $s))))
            (local.set $w (i32x4.add (local.get $w) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $w) (local.get $w))))
            (local.set $h (i32.add (i32x4.extract_lane 0 (local.get $w)) (i32x4.extract_lane 1 (local.get $w))))
            (i32.store16 (local.get $out) (local.get $h))
            (local.set $out (i32.add (local.get $out) (i32.const 2)))
            (br $row))))))

  ;; histogram(dist, count, hist): hist[d] += 1 for each of the `count` u16 distances at `dist`, read two at a time
  ;; (the last one alone when `count` is odd). hist: u32 counters the caller zeroes, one per possible distance.
  (func (export "histogram") (param $dist i32) (param $count i32) (param $hist i32)
    (local $end i32) (local $w i32) (local $a i32)
    (local.set $end (i32.add (local.get $dist) (i32.shl (i32.and (local.get $count) (i32.const -2)) (i32.const 1))))
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $dist) (local.get $end)))
        (local.set $w (i32.load (local.get $dist)))
        (local.set $a (i32.add (local.get $hist) (i32.shl (i32.and (local.get $w) (i32.const 0xffff)) (i32.const 2))))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32.add (local.get $hist) (i32.shl (i32.shr_u (local.get $w) (i32.const 16)) (i32.const 2))))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $dist (i32.add (local.get $dist) (i32.const 4)))
        (br $pair)))
    (if (i32.and (local.get $count) (i32.const 1))
      (then
        (local.set $a (i32.add (local.get $hist) (i32.shl (i32.load16_u (local.get $dist)) (i32.const 2))))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1))))))

  ;; collect(dist, count, cutoff, quota, out) -> n: the rows r < count with dist[r] (u16) below `cutoff`, and the
  ;; first `quota` rows (in row order) equal to it, written as i32 row numbers at `out`, in row order; returns how
  ;; many. Groups of eight rows with nothing at or below the cut-off are skipped with one SIMD compare.
  (func (export "collect") (param $dist i32) (param $count i32) (param $cutoff i32) (param $quota i32) (param $out i32) (result i32)
    (local $r i32) (local $end8 i32) (local $g i32) (local $d i32) (local $n i32) (local $limit v128)
    (local.set $limit (i16x8.splat (local.get $cutoff)))
    (local.set $end8 (i32.and (local.get $count) (i32.const -8)))
    (local.set $r (i32.const 0))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $count)))
        (if (i32.and
              (i32.lt_u (local.get $r) (local.get $end8))
              (i32.eqz (i32.and (local.get $r) (i32.const 7))))
          (then
            (if (i32.eqz (v128.any_true (i16x8.le_u
                  (v128.load (i32.add (local.get $dist) (i32.shl (local.get $r) (i32.const 1))))
                  (local.get $limit))))
              (then
                (local.set $r (i32.add (local.get $r) (i32.const 8)))
                (br $row)))))
        (local.set $d (i32.load16_u (i32.add (local.get $dist) (i32.shl (local.get $r) (i32.const 1)))))
        (if (i32.lt_u (local.get $d) (local.get $cutoff))
          (then
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $r))
            (local.set $n (i32.add (local.get $n) (i32.const 1))))
          (else
            (if (i32.and (i32.eq (local.get $d) (local.get $cutoff)) (i32.gt_s (local.get $quota) (i32.const 0)))
              (then
                (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $r))
                (local.set $n (i32.add (local.get $n) (i32.const 1)))
                (local.set $quota (i32.sub (local.get $quota) (i32.const 1)))))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row)))
    (local.get $n))
)
