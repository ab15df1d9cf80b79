// How a ratio is printed next to its goal: two decimals, or one more when two
// would round it onto the limit (1.205 against "≤ 1.2×" reads "1.21×", not a
// "1.20× missed" that looks like a met goal marked missed).
'use strict';

/** `ratio` as "1.23×"; with `limit`, as many more decimals as needed to show which side of it the ratio is. */
function times(ratio, limit, decimals = 2) {
  let d = decimals;
  while (limit !== undefined && ratio !== limit && Number(ratio.toFixed(d)) === Number(limit.toFixed(d)) && d < 6) d++;
  return `${ratio.toFixed(d)}×`;
}

module.exports = { times };
