#include "evaluation/stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace gw::eval {

std::vector<double> quantile_cuts(std::vector<double> values, int cuts) {
  std::vector<double> out;
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); }),
               values.end());
  if (values.empty()) return out;
  std::sort(values.begin(), values.end());
  const auto n = values.size();
  out.push_back(values.front());
  for (int k = 1; k < cuts; ++k) {
    auto rank = static_cast<std::size_t>(
        std::ceil(static_cast<double>(k) * static_cast<double>(n) / cuts - 1e-9));
    rank = std::clamp<std::size_t>(rank, 1, n);
    out.push_back(values[rank - 1]);
  }
  // Strictly above the largest value: an "under" rule then fires on every row.
  const double top = values.back();
  out.push_back(top + std::max(1.0, std::abs(top)) * 1e-6);
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

double normal_quantile(double p) {
  // Peter Acklam's algorithm.
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  const double low = 0.02425;
  if (p <= 0) return -std::numeric_limits<double>::infinity();
  if (p >= 1) return std::numeric_limits<double>::infinity();
  if (p < low) {
    const double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -normal_quantile(1 - p);
  const double q = p - 0.5;
  const double r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

double wilson_upper(std::uint64_t successes, std::uint64_t n, double confidence) {
  if (n == 0) return 1.0;
  const double z = normal_quantile(confidence);
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(successes) / nn;
  const double denom = 1 + z * z / nn;
  const double centre = p + z * z / (2 * nn);
  const double spread = z * std::sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn));
  return std::min(1.0, (centre + spread) / denom);
}

double trapz(const std::vector<double>& y, const std::vector<double>& x) {
  double area = 0;
  for (std::size_t i = 1; i < x.size() && i < y.size(); ++i) {
    area += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2;
  }
  return area;
}

double np_interp(double x, const std::vector<double>& xp, const std::vector<double>& fp) {
  if (xp.empty()) return NAN;
  if (x < xp.front()) return fp.front();
  if (x >= xp.back()) return fp.back();
  // The last j with xp[j] <= x (numpy's search), then the segment [j, j+1].
  const auto it = std::upper_bound(xp.begin(), xp.end(), x);
  const auto j = static_cast<std::size_t>(it - xp.begin()) - 1;
  if (xp[j + 1] == xp[j]) return fp[j];
  const double slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
  return fp[j] + slope * (x - xp[j]);
}

RouteLlmFigures routellm_figures(std::vector<CurvePoint> points, double weak_quality,
                                 double strong_quality) {
  RouteLlmFigures f;
  if (points.size() < 2 || strong_quality == weak_quality) return f;
  std::stable_sort(points.begin(), points.end(), [](const CurvePoint& a, const CurvePoint& b) {
    return a.strong_percent < b.strong_percent;
  });
  std::vector<double> x, y;
  for (const auto& p : points) {
    x.push_back(p.strong_percent / 100);
    y.push_back(p.quality);
  }
  const double auc = trapz(y, x);
  const double span = x.back() - x.front();
  if (span <= 0) return f;
  f.apgr = (auc - weak_quality * span) / (strong_quality * span - weak_quality * span);
  std::vector<double> percents;
  percents.reserve(points.size());
  for (const auto& p : points) percents.push_back(p.strong_percent);
  f.cpt50 = np_interp(weak_quality + 0.5 * (strong_quality - weak_quality), y, percents);
  f.cpt80 = np_interp(weak_quality + 0.8 * (strong_quality - weak_quality), y, percents);
  return f;
}

std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::uint64_t hash_id(std::string_view id, std::uint64_t seed) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : id) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return mix64(h ^ mix64(seed));
}

}  // namespace gw::eval
