# Turns the status codes of csrc/st_status.h into Python exceptions.
# Included by every adapter, so the mapping lives in one place.

cdef extern from "st_status.h" nogil:
    int ST_OK
    int ST_ERR_BAD_ARGUMENT


cdef inline int check_status(int status, str where) except -1:
    if status == ST_OK:
        return 0
    if status == ST_ERR_BAD_ARGUMENT:
        raise ValueError(
            f"{where}: the compiled kernel rejected its arguments (status "
            f"{status}); this is a bug in sparsetools' validation, please "
            "report it")
    raise RuntimeError(f"{where}: compiled kernel failed with status {status}")
