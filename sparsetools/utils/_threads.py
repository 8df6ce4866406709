"""Thread control: what n_jobs means, and BLAS held to one thread inside kernels."""
import os

from sparsetools.utils._validation import check_int

_CONTROLLER = None


def effective_n_threads(n_jobs):
    """Number of threads for ``n_jobs`` (scikit-learn's convention, threads not processes).

    ``None`` means 1, ``-1`` all usable cores, ``-2`` all but one, and so on.
    """
    if n_jobs is None:
        return 1
    n_jobs = check_int(n_jobs, "n_jobs")
    if n_jobs == 0:
        raise ValueError("n_jobs must be a non-zero int or None; got 0.")
    n_cpus = _usable_cpus()
    if n_jobs < 0:
        return max(1, n_cpus + 1 + n_jobs)
    return n_jobs


def _usable_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def blas_threads(n_threads):
    """Context manager that sets every loaded BLAS to `n_threads` threads.

    Built on one cached ``threadpoolctl.ThreadpoolController`` so entering it
    does not rescan the loaded libraries on every call.
    """
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=n_threads, user_api="blas")


def blas_single_thread():
    """Context manager that caps every loaded BLAS at one thread."""
    return blas_threads(1)
