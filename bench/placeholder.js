// Benchmarks arrive with the benchmarks issue; until then this says so instead
// of printing numbers nobody measured.
console.log('No benchmarks yet: they land with the benchmarks issue (ratios against a baseline measured in the same run).');
