"""Build of sparsetools' compiled core: C kernels in csrc/ behind thin Cython adapters.

One Extension per .pyx in sparsetools/_lib/, each listing the csrc/*.c files it
needs.  OpenMP is used when a probe compile with it succeeds; otherwise the
adapters build single-threaded (prange becomes a plain loop).  Metadata lives
in pyproject.toml.
"""
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile

from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
CSRC = "csrc"

_PROBE = r"""
#include <omp.h>
int main(void) {
    int n = 0;
    #pragma omp parallel reduction(+:n)
    n += 1;
    return n > 0 ? 0 : 1;
}
"""


def openmp_flags():
    """Compile and link flags for OpenMP, or ([], []) when the compiler lacks it.

    Set SPARSETOOLS_NO_OPENMP=1 to build without OpenMP on purpose.
    """
    if os.environ.get("SPARSETOOLS_NO_OPENMP"):
        return [], []
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    cc = cc.split()
    flags = ["/openmp"] if sys.platform == "win32" else ["-fopenmp"]
    tmp = tempfile.mkdtemp()
    try:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write(_PROBE)
        exe = os.path.join(tmp, "probe")
        res = subprocess.run(cc + flags + [src, "-o", exe], capture_output=True)
        if res.returncode != 0:
            print("sparsetools: OpenMP probe failed; building single-threaded",
                  file=sys.stderr)
            return [], []
        if subprocess.run([exe], capture_output=True).returncode != 0:
            print("sparsetools: OpenMP probe did not run; building "
                  "single-threaded", file=sys.stderr)
            return [], []
    except OSError as exc:
        print(f"sparsetools: OpenMP probe error ({exc}); building "
              "single-threaded", file=sys.stderr)
        return [], []
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return flags, flags


#: Flags of the CBPDN kernels: reassociation lets the loops and their partial
#: sums vectorise (as Numba's fastmath would); no assumption about NaN or
#: infinity is made, so invalid values still propagate.
REASSOCIATE = [] if sys.platform == "win32" else [
    "-fno-math-errno", "-fno-trapping-math", "-fno-signed-zeros", "-fassociative-math",
    "-ffp-contract=fast"]


def extensions():
    omp_compile, omp_link = openmp_flags()
    common = dict(
        include_dirs=[CSRC],
        extra_compile_args=["-O3", "-std=c99"] + omp_compile
        if sys.platform != "win32" else omp_compile,
        extra_link_args=omp_link,
        depends=[os.path.join(CSRC, h) for h in os.listdir(CSRC)
                 if h.endswith((".h", ".template.c", ".template.h"))],
    )
    return [
        Extension(
            "sparsetools._lib._gram_coders",
            sources=["sparsetools/_lib/_gram_coders.pyx",
                     os.path.join(CSRC, "batch_omp.c"),
                     os.path.join(CSRC, "lars.c"),
                     os.path.join(CSRC, "lasso_cd.c"),
                     os.path.join(CSRC, "gram_common.c")],
            **common,
        ),
        Extension(
            "sparsetools._lib._lca",
            sources=["sparsetools/_lib/_lca.pyx",
                     os.path.join(CSRC, "lca.c")],
            **common,
        ),
        Extension(
            "sparsetools._lib._topt",
            sources=["sparsetools/_lib/_topt.pyx", os.path.join(CSRC, "topt.c")],
            **common,
        ),
        Extension(
            "sparsetools._lib._cbpdn",
            sources=["sparsetools/_lib/_cbpdn.pyx", os.path.join(CSRC, "cbpdn.c")],
            **dict(common, extra_compile_args=common["extra_compile_args"] + REASSOCIATE),
        ),
        Extension(
            "sparsetools._lib._conv_dict",
            sources=["sparsetools/_lib/_conv_dict.pyx", os.path.join(CSRC, "conv_dict.c")],
            **dict(common, extra_compile_args=common["extra_compile_args"] + REASSOCIATE
                   + ([] if sys.platform == "win32" else ["-fopenmp-simd"])),
        ),
        Extension(
            "sparsetools._lib._learning",
            sources=["sparsetools/_lib/_learning.pyx",
                     os.path.join(CSRC, "dict_update.c"),
                     os.path.join(CSRC, "ksvd.c")],
            **common,
        ),
    ]


setup(
    ext_modules=cythonize(
        extensions(),
        compiler_directives={
            "language_level": "3",
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    ),
)
