;; research/sketch-kernel.ts's addition to src/core/sketch-kernel.wat (sketchRows, hammingScan, collect, which the
;; product uses): exact distances for a gathered list of rows. sketch-kernel.ts compiles the product's source with a
;; shared memory (so two threads can scan halves of one gallery) and these functions appended.
  ;; squaredDistancesAt(q, rows, dims, idx, n, out): out[i] = Σ_j (q[j] − rows[idx[i]·dims + j])² (float32) for the n
  ;; row numbers (i32) at `idx`: src/core/l2-kernel.wat's loop over a gathered list of rows. dims a multiple of 16.
  (func (export "squaredDistancesAt") (param $q i32) (param $rows i32) (param $dims i32) (param $idx i32) (param $n i32) (param $out i32)
    (local $p i32) (local $end i32) (local $j i32) (local $bytes i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $d v128)
    (local.set $bytes (i32.shl (local.get $dims) (i32.const 2)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $p (i32.add (local.get $rows) (i32.mul (i32.load (local.get $idx)) (local.get $bytes))))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $a3 (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (loop $dim
          (local.set $d (f32x4.sub (v128.load (i32.add (local.get $q) (local.get $j))) (v128.load (i32.add (local.get $p) (local.get $j)))))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $d (f32x4.sub (v128.load offset=16 (i32.add (local.get $q) (local.get $j))) (v128.load offset=16 (i32.add (local.get $p) (local.get $j)))))
          (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $d (f32x4.sub (v128.load offset=32 (i32.add (local.get $q) (local.get $j))) (v128.load offset=32 (i32.add (local.get $p) (local.get $j)))))
          (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $d (f32x4.sub (v128.load offset=48 (i32.add (local.get $q) (local.get $j))) (v128.load offset=48 (i32.add (local.get $p) (local.get $j)))))
          (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $j (i32.add (local.get $j) (i32.const 64)))
          (br_if $dim (i32.lt_u (local.get $j) (local.get $bytes))))
        (local.set $a0 (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
        (f32.store (local.get $out)
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $a0)) (f32x4.extract_lane 1 (local.get $a0)))
            (f32.add (f32x4.extract_lane 2 (local.get $a0)) (f32x4.extract_lane 3 (local.get $a0)))))
        (local.set $idx (i32.add (local.get $idx) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $row))))
