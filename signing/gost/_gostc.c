/*
 * The speed path of signing/gost: Streebog (GOST R 34.11-2012) compression in C.
 *
 * It holds no constants of the standard: streebog_setup() receives the LPS tables and the
 * iteration constants that streebog.py computes, so the two paths cannot disagree on them.
 * Built at install by hatch_build.py; without it streebog.py runs its pure-Python code.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static uint64_t T[8][256];
static uint64_t CI[12][8];
static int ready = 0;

static inline uint64_t load64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);   /* little-endian machines only: checked in PyInit */
    return v;
}

/* One output word of LPS: word i gathers byte i of every input word (the transposition P). */
#define LPS_WORD(x, i) \
    (T[0][(uint8_t)((x)[0] >> (8 * (i)))] ^ T[1][(uint8_t)((x)[1] >> (8 * (i)))] \
   ^ T[2][(uint8_t)((x)[2] >> (8 * (i)))] ^ T[3][(uint8_t)((x)[3] >> (8 * (i)))] \
   ^ T[4][(uint8_t)((x)[4] >> (8 * (i)))] ^ T[5][(uint8_t)((x)[5] >> (8 * (i)))] \
   ^ T[6][(uint8_t)((x)[6] >> (8 * (i)))] ^ T[7][(uint8_t)((x)[7] >> (8 * (i)))])

/* out = LPS(a ^ b); out must not alias a or b. */
static inline void lpsx(const uint64_t *a, const uint64_t *b, uint64_t *out) {
    uint64_t x[8];
    for (int i = 0; i < 8; i++) x[i] = a[i] ^ b[i];
    out[0] = LPS_WORD(x, 0); out[1] = LPS_WORD(x, 1);
    out[2] = LPS_WORD(x, 2); out[3] = LPS_WORD(x, 3);
    out[4] = LPS_WORD(x, 4); out[5] = LPS_WORD(x, 5);
    out[6] = LPS_WORD(x, 6); out[7] = LPS_WORD(x, 7);
}

/* The compression function g_N(h, m) of RFC 6986 section 7. */
static void g(uint64_t *h, const uint64_t *n, const uint64_t *m) {
    uint64_t k[8], s[8], t[8];
    lpsx(h, n, k);
    memcpy(s, m, sizeof s);
    for (int r = 0; r < 12; r++) {
        lpsx(s, k, t);          /* t = LPS(state ^ K_r) */
        lpsx(k, CI[r], s);      /* K_{r+1} = LPS(K_r ^ C_r), kept in s for now */
        memcpy(k, s, sizeof k);
        memcpy(s, t, sizeof s);
    }
    for (int i = 0; i < 8; i++) h[i] ^= s[i] ^ k[i] ^ m[i];
}

static void add512(uint64_t *a, const uint64_t *b) {
    uint64_t carry = 0;
    for (int i = 0; i < 8; i++) {
        uint64_t x = a[i] + b[i];
        uint64_t c1 = x < a[i];
        uint64_t y = x + carry;
        carry = c1 | (y < x);
        a[i] = y;
    }
}

static void streebog(const unsigned char *data, Py_ssize_t len, int bits, unsigned char *out) {
    uint64_t h[8], n[8] = {0}, sigma[8] = {0}, m[8], len_block[8] = {0}, zero[8] = {0};
    memset(h, bits == 512 ? 0x00 : 0x01, sizeof h);
    len_block[0] = 512;
    Py_ssize_t off = 0;
    for (; len - off >= 64; off += 64) {
        for (int i = 0; i < 8; i++) m[i] = load64(data + off + 8 * i);
        g(h, n, m);
        add512(n, len_block);
        add512(sigma, m);
    }
    unsigned char last[64] = {0};
    Py_ssize_t rest = len - off;
    memcpy(last, data + off, (size_t)rest);
    last[rest] = 0x01;
    for (int i = 0; i < 8; i++) m[i] = load64(last + 8 * i);
    g(h, n, m);
    len_block[0] = (uint64_t)rest * 8;
    add512(n, len_block);
    add512(sigma, m);
    g(h, zero, n);
    g(h, zero, sigma);
    if (bits == 512) memcpy(out, h, 64);
    else memcpy(out, h + 4, 32);
}

static PyObject *py_setup(PyObject *self, PyObject *args) {
    Py_buffer tables, consts;
    if (!PyArg_ParseTuple(args, "y*y*", &tables, &consts)) return NULL;
    if (tables.len != (Py_ssize_t)sizeof T || consts.len != (Py_ssize_t)sizeof CI) {
        PyBuffer_Release(&tables);
        PyBuffer_Release(&consts);
        PyErr_SetString(PyExc_ValueError, "tables of the wrong size");
        return NULL;
    }
    memcpy(T, tables.buf, sizeof T);
    memcpy(CI, consts.buf, sizeof CI);
    ready = 1;
    PyBuffer_Release(&tables);
    PyBuffer_Release(&consts);
    Py_RETURN_NONE;
}

static PyObject *py_streebog(PyObject *self, PyObject *args) {
    Py_buffer data;
    int bits;
    unsigned char out[64];
    if (!PyArg_ParseTuple(args, "y*i", &data, &bits)) return NULL;
    if (!ready || (bits != 256 && bits != 512)) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_ValueError, "not set up, or bits not 256/512");
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    streebog((const unsigned char *)data.buf, data.len, bits, out);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&data);
    return PyBytes_FromStringAndSize((const char *)out, bits / 8);
}

static PyMethodDef methods[] = {
    {"streebog_setup", py_setup, METH_VARARGS, "Load the LPS tables and constants."},
    {"streebog", py_streebog, METH_VARARGS, "Streebog digest of a buffer (bits 256 or 512)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_gostc", NULL, -1, methods};

PyMODINIT_FUNC PyInit__gostc(void) {
    uint16_t probe = 1;
    if (*(unsigned char *)&probe != 1) {
        PyErr_SetString(PyExc_ImportError, "_gostc assumes a little-endian machine");
        return NULL;
    }
    return PyModule_Create(&module);
}
