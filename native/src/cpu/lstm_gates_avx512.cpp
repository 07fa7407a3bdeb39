// float32 gate kernel for AVX-512, in intrinsics: the same Cephes exp and tanh as
// lstm_gates_f32.inc, but the five divisions per unit are a 14-bit reciprocal estimate and one
// Newton step (within about an ulp of the quotient), and exp scales by 2^n with vscalefps. One
// thread's gate pass of a B=64, H=256 step (32 rows) took 23 us with the divisions, of the step's
// ~355 us; this kernel takes 19 us (about 1 % of the forward). Every lane runs the same
// instructions, so a unit's bits do not depend on where a split puts it. NaN propagates as in the
// portable kernel: the clamps keep a NaN operand (vminps returns its second operand when either is
// NaN).
// GCC 12 warns inside its own headers that _mm512_undefined_ps's self-initialised value "may be
// used uninitialized" (a known false positive of the masked intrinsics); it says nothing here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstdint>

namespace lstm4j::cpu {
namespace {

inline __m512 exp16(__m512 x) {
  x = _mm512_min_ps(_mm512_set1_ps(88.3762626647949f), x);
  x = _mm512_max_ps(_mm512_set1_ps(-87.3365447504f), x);
  // x = n ln2 + r, |r| <= ln2 / 2, n rounded to nearest even (as the portable kernel's 1.5 * 2^23).
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 e = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(e, n);
}

// 1 / d for d >= 1 (all callers): the 14-bit estimate and one Newton step.
inline __m512 recip16(__m512 d) {
  const __m512 r = _mm512_rcp14_ps(d);
  return _mm512_fmadd_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(1.0f)), r);
}

inline __m512 sigmoid16(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  return recip16(_mm512_add_ps(exp16(_mm512_sub_ps(_mm512_setzero_ps(), x)), one));
}

inline __m512 tanh16(__m512 x) {
  const __m512 ax = _mm512_abs_ps(x);
  // |x| < 0.625: odd polynomial (no cancellation near 0); else 1 - 2 / (exp(2|x|) + 1), signed.
  const __m512 z = _mm512_mul_ps(x, x);
  __m512 p = _mm512_set1_ps(-5.70498872745e-3f);
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(2.06390887954e-2f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-5.37397155531e-2f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(1.33314422036e-1f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-3.33332819422e-1f));
  const __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(p, z), x, x);
  const __m512 q = recip16(_mm512_add_ps(exp16(_mm512_add_ps(ax, ax)), _mm512_set1_ps(1.0f)));
  const __m512 big = _mm512_fnmadd_ps(_mm512_set1_ps(2.0f), q, _mm512_set1_ps(1.0f));
  const __m512i sign = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(INT32_MIN));
  const __m512 signed_big = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(big), sign));
  const __mmask16 is_small = _mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.625f), _CMP_LT_OQ);
  return _mm512_mask_blend_ps(is_small, signed_big, small);
}

}  // namespace

// Units j < n of a row whose gate blocks are H apart (x[j], x[H + j], ...); see lstm_gates.h.
void gates_row_f32_avx512(int64_t n, int64_t H, const float* __restrict x,
                          const float* __restrict r, float* __restrict c, float* __restrict h) {
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = n - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - j)) - 1u);
    __m512 pi = _mm512_maskz_loadu_ps(m, x + j);
    __m512 pf = _mm512_maskz_loadu_ps(m, x + H + j);
    __m512 pg = _mm512_maskz_loadu_ps(m, x + 2 * H + j);
    __m512 po = _mm512_maskz_loadu_ps(m, x + 3 * H + j);
    if (r != nullptr) {
      pi = _mm512_add_ps(pi, _mm512_maskz_loadu_ps(m, r + j));
      pf = _mm512_add_ps(pf, _mm512_maskz_loadu_ps(m, r + H + j));
      pg = _mm512_add_ps(pg, _mm512_maskz_loadu_ps(m, r + 2 * H + j));
      po = _mm512_add_ps(po, _mm512_maskz_loadu_ps(m, r + 3 * H + j));
    }
    const __m512 i = sigmoid16(pi), f = sigmoid16(pf), g = tanh16(pg), o = sigmoid16(po);
    const __m512 cn = _mm512_fmadd_ps(f, _mm512_maskz_loadu_ps(m, c + j), _mm512_mul_ps(i, g));
    _mm512_mask_storeu_ps(c + j, m, cn);
    _mm512_mask_storeu_ps(h + j, m, _mm512_mul_ps(o, tanh16(cn)));
  }
}

}  // namespace lstm4j::cpu
