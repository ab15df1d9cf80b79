// The CLI entry point; the commands land with the foundation's CLI work.
process.stderr.write('matrix-devtools: not built yet\n');
process.exit(2);
