{
  "targets": [
    {
      "target_name": "engram_blas",
      "sources": ["blas.c"],
      "cflags": ["-O3", "-march=native", "-fno-math-errno", "-std=c11"],
      "libraries": ["-lopenblas"]
    }
  ]
}
